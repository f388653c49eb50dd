// Thin shim for KafkaProtocol's compression codecs. Nothing but what Swift cannot do itself:
//
// - zlib (gzip): `deflateInit2`/`inflateInit2` are macros that pass ZLIB_VERSION and
//   sizeof(z_stream), which Swift cannot import; the two wrappers below do just that. zlib is
//   linked (-lz): it is part of every Linux system and of the Swift toolchain's requirements.
// - zstd: NOT linked and no zstd header is needed. libzstd is loaded at run time with dlopen
//   (see Zstd.swift); these are the two plain structs its streaming API takes, with the same
//   layout as ZSTD_inBuffer / ZSTD_outBuffer in zstd.h (stable since zstd 1.0).
#ifndef CKAFKACOMPRESSIONSHIMS_H
#define CKAFKACOMPRESSIONSHIMS_H

#include <stddef.h>
#include <zlib.h>

/// deflateInit2(strm, level, Z_DEFLATED, windowBits, memLevel, Z_DEFAULT_STRATEGY).
int kwire_deflate_init2(z_streamp strm, int level, int windowBits, int memLevel);

/// inflateInit2(strm, windowBits).
int kwire_inflate_init2(z_streamp strm, int windowBits);

/// Layout of zstd.h's ZSTD_inBuffer.
typedef struct {
    const void *src;
    size_t size;
    size_t pos;
} kwire_zstd_in_buffer;

/// Layout of zstd.h's ZSTD_outBuffer.
typedef struct {
    void *dst;
    size_t size;
    size_t pos;
} kwire_zstd_out_buffer;

#endif
