// System headers Swift's Glibc module does not export (epoll, eventfd). Nothing else.
#ifndef CKAFKANETSHIMS_H
#define CKAFKANETSHIMS_H
#ifdef __linux__
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
#endif
