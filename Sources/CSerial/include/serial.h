#ifndef CSERIAL_H
#define CSERIAL_H

#include <stddef.h>

/* Sets input and output speed of an open tty to any rate in bit/s (250000 for DMX included).
   Returns 0, or -1 with errno set. */
int serial_set_baud(int fd, unsigned int rate);

/* Opens a new pty master and writes its slave's path into `name` (a device stand-in for
   tests). Returns the master's descriptor, or -1 with errno set. */
int serial_open_pty(char *name, size_t size);

#endif
