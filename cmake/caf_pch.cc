// Anchor translation unit for the precompiled CAF headers shared by every actor module.
