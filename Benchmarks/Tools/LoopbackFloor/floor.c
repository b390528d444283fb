// The machine's floor for scenario A (docs/benchmarks.md, "Single-hop floor"): the latency of
// a 16-byte message from a publisher through a relay process to a subscriber over loopback TCP,
// with nothing else on the path — no protocol, no framing, no allocation. The relay is one
// thread on epoll that writes each read straight to the subscriber, the least any broker can do.
//
//   cc -O2 -o floor floor.c -lpthread
//   ./floor relay PUB_PORT SUB_PORT                # the broker stand-in; runs until killed
//   ./floor measure PUB_PORT SUB_PORT RATE COUNT   # publisher + subscriber threads, prints µs
//   ./floor direct RATE COUNT                      # publisher → subscriber, no relay (one hop)
//
// Every socket has TCP_NODELAY, as the gateway's and mosquitto's have.
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

enum { MESSAGE = 16 };

static void die(const char *what) { perror(what); exit(1); }

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void no_delay(int fd) {
    int one = 1;
    if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) < 0) die("TCP_NODELAY");
}

static int listen_on(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    if (fd < 0) die("socket");
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    if (bind(fd, (struct sockaddr *)&a, sizeof a) < 0) die("bind");
    if (listen(fd, 4) < 0) die("listen");
    return fd;
}

static int accept_one(int listener) {
    int fd = accept(listener, NULL, NULL);
    if (fd < 0) die("accept");
    no_delay(fd);
    return fd;
}

static int connect_to(int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) die("socket");
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port), .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    for (int tries = 0; connect(fd, (struct sockaddr *)&a, sizeof a) < 0; tries++) {
        if (tries == 100) die("connect");
        usleep(10000);
    }
    no_delay(fd);
    return fd;
}

static void write_all(int fd, const char *bytes, size_t count) {
    while (count > 0) {
        ssize_t n = write(fd, bytes, count);
        if (n < 0) {
            if (errno == EINTR) continue;
            die("write");
        }
        bytes += n;
        count -= (size_t)n;
    }
}

// The relay: accepts the subscriber, then the publisher, and forwards until the publisher leaves.
static void relay(int pub_port, int sub_port) {
    int pub_listener = listen_on(pub_port), sub_listener = listen_on(sub_port);
    for (;;) {
        int sub = accept_one(sub_listener), pub = accept_one(pub_listener);
        int ep = epoll_create1(0);
        struct epoll_event ev = {.events = EPOLLIN, .data.fd = pub};
        if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, pub, &ev) < 0) die("epoll");
        char buffer[65536];
        for (;;) {
            struct epoll_event ready;
            if (epoll_wait(ep, &ready, 1, -1) < 0) {
                if (errno == EINTR) continue;
                die("epoll_wait");
            }
            ssize_t n = read(pub, buffer, sizeof buffer);
            if (n <= 0) break;
            write_all(sub, buffer, (size_t)n);
        }
        close(ep);
        close(pub);
        close(sub);
    }
}

struct subscriber {
    int fd;
    long count;
    uint64_t *latencies;
};

static void *receive(void *arg) {
    struct subscriber *s = arg;
    char message[MESSAGE];
    for (long i = 0; i < s->count; i++) {
        size_t have = 0;
        while (have < MESSAGE) {
            ssize_t n = read(s->fd, message + have, MESSAGE - have);
            if (n <= 0) die("subscriber read");
            have += (size_t)n;
        }
        uint64_t sent;
        memcpy(&sent, message, sizeof sent);
        s->latencies[i] = now_ns() - sent;
    }
    return NULL;
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

// Publishes COUNT messages at RATE per second on `pub` (absolute deadlines, as clasp-load paces)
// while a thread reads them from `sub`; prints the send → received percentiles.
static void measure(int pub, int sub, long rate, long count, const char *label) {
    struct subscriber s = {.fd = sub, .count = count, .latencies = calloc((size_t)count, sizeof(uint64_t))};
    pthread_t thread;
    if (!s.latencies || pthread_create(&thread, NULL, receive, &s) != 0) die("subscriber thread");
    uint64_t start = now_ns(), interval = 1000000000u / (uint64_t)rate;
    char message[MESSAGE] = {0};
    for (long i = 0; i < count; i++) {
        uint64_t due = start + (uint64_t)i * interval;
        struct timespec t = {.tv_sec = (time_t)(due / 1000000000u), .tv_nsec = (long)(due % 1000000000u)};
        while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR) {}
        uint64_t sent = now_ns();
        memcpy(message, &sent, sizeof sent);
        write_all(pub, message, MESSAGE);
    }
    pthread_join(thread, NULL);
    long skip = count / 10;  // warm-up left out, as clasp-load's --warmup does
    qsort(s.latencies + skip, (size_t)(count - skip), sizeof(uint64_t), by_value);
    uint64_t *l = s.latencies + skip;
    long n = count - skip;
    printf("%s, %ld msg/s, %ld messages: p50 %.1f µs, p90 %.1f µs, p99 %.1f µs, max %.1f µs\n", label, rate, n,
           l[n / 2] / 1e3, l[n * 9 / 10] / 1e3, l[n * 99 / 100] / 1e3, l[n - 1] / 1e3);
    free(s.latencies);
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "relay") == 0) {
        relay(atoi(argv[2]), atoi(argv[3]));
    } else if (argc == 6 && strcmp(argv[1], "measure") == 0) {
        int sub = connect_to(atoi(argv[3]));
        usleep(100000);  // the relay accepts the subscriber first
        int pub = connect_to(atoi(argv[2]));
        measure(pub, sub, atol(argv[4]), atol(argv[5]), "through the relay");
    } else if (argc == 4 && strcmp(argv[1], "direct") == 0) {
        int listener = listen_on(0);
        struct sockaddr_in a;
        socklen_t size = sizeof a;
        if (getsockname(listener, (struct sockaddr *)&a, &size) < 0) die("getsockname");
        int pub = connect_to(ntohs(a.sin_port)), sub = accept_one(listener);
        measure(pub, sub, atol(argv[2]), atol(argv[3]), "direct");
    } else {
        fprintf(stderr, "usage: %s relay PUB SUB | measure PUB SUB RATE COUNT | direct RATE COUNT\n", argv[0]);
        return 2;
    }
    return 0;
}
