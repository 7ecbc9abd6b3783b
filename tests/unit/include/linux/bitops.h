#include "kernel-shim.h"
#include "tso-shim.h"
