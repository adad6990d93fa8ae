// The declaration in include/FuzzDriver.h is the whole module; SwiftPM needs one source file for a C target.
#include "FuzzDriver.h"
