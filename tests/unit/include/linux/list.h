#include "tso-shim.h"
