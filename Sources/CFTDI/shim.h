#ifndef CFTDI_SHIM_H
#define CFTDI_SHIM_H

#include <ftdi.h>

#endif
