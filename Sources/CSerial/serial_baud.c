/* A C file of its own because Linux's termios2 (<asm/termbits.h>) cannot share a translation
   unit, or a Swift module, with glibc's <termios.h>. */
#include "serial.h"

#ifdef __linux__
#include <asm/termbits.h>
#include <sys/ioctl.h>

int serial_set_baud(int fd, unsigned int rate) {
    struct termios2 tio;
    if (ioctl(fd, TCGETS2, &tio) != 0) return -1;
    tio.c_cflag &= ~CBAUD;
    tio.c_cflag |= BOTHER;
    tio.c_cflag &= ~(CBAUD << IBSHIFT);
    tio.c_cflag |= BOTHER << IBSHIFT;
    tio.c_ispeed = rate;
    tio.c_ospeed = rate;
    return ioctl(fd, TCSETS2, &tio);
}
#else
#include <termios.h>

int serial_set_baud(int fd, unsigned int rate) {
    struct termios tio;
    if (tcgetattr(fd, &tio) != 0) return -1;
    if (cfsetspeed(&tio, (speed_t)rate) != 0) return -1;
    return tcsetattr(fd, TCSANOW, &tio);
}
#endif
