// Declarations only (see include/CFuzzerDriver.h); SwiftPM wants one source file.
