#ifndef CHDF5_OFFSET_DRIVER_H
#define CHDF5_OFFSET_DRIVER_H
/* A virtual file driver for an HDF5 file that lies inside another file from a byte offset on (a
 * STORED member of a zip archive being written): HDF5 address A is byte OFFSET + A of the file
 * named at open. Otherwise it does what HDF5's POSIX driver (sec2, H5FDsec2.c) does: pread and
 * pwrite, bytes past the end read as zeros, the file made as long as the allocated space when HDF5
 * truncates it, and the same layout features (metadata and small-data aggregation, the metadata
 * accumulator, the sieve buffer), so HDF5 lays the file out byte for byte as it would in a file of
 * its own. No driver information goes into the superblock: the result is a plain HDF5 file.
 *
 * The container is never created or shortened below OFFSET: it must exist, and H5F_ACC_TRUNC
 * makes an empty HDF5 file at OFFSET, whatever lies before it staying as it is (the caller cuts
 * the container at OFFSET first). The driver's fapl information is `chdf5_offset_info`.
 * Facts: H5FDpublic.h (H5FD_class_t), H5Ppublic.h (H5Pset_driver, H5Pget_driver_info). */
#include <hdf5.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    int64_t offset; /* where the HDF5 file starts in the container */
} chdf5_offset_info;

typedef struct {
    H5FD_t pub;      /* HDF5's part, first */
    int fd;
    haddr_t offset;
    haddr_t eoa;
    haddr_t eof;
} chdf5_offset_file;

/* The largest address: container offsets stay within off_t whatever the offset. */
#define CHDF5_OFFSET_MAXADDR (((haddr_t)1 << 62) - 1)

static inline void chdf5_offset_error(const char *function, H5E_major_t major, H5E_minor_t minor, const char *what, int code) {
    H5Epush2(H5E_DEFAULT, __FILE__, function, __LINE__, H5E_ERR_CLS, major, minor,
             "%s, errno = %d, error message = '%s'", what, code, strerror(code));
}

static inline H5FD_t *chdf5_offset_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
    (void)maxaddr;
    const chdf5_offset_info *info = (const chdf5_offset_info *)H5Pget_driver_info(fapl);
    if (info == NULL || info->offset < 0 || (haddr_t)info->offset > CHDF5_OFFSET_MAXADDR) {
        H5Epush2(H5E_DEFAULT, __FILE__, "chdf5_offset_open", __LINE__, H5E_ERR_CLS, H5E_VFL, H5E_BADVALUE,
                 "no valid offset in the file-access list");
        return NULL;
    }
    int fd = open(name, ((flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
    if (fd < 0) {
        chdf5_offset_error("chdf5_offset_open", H5E_FILE, H5E_CANTOPENFILE, "unable to open the container", errno);
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        int code = errno;
        close(fd);
        chdf5_offset_error("chdf5_offset_open", H5E_FILE, H5E_BADFILE, "unable to stat the container", code);
        return NULL;
    }
    chdf5_offset_file *file = (chdf5_offset_file *)calloc(1, sizeof(chdf5_offset_file));
    if (file == NULL) {
        close(fd);
        chdf5_offset_error("chdf5_offset_open", H5E_RESOURCE, H5E_NOSPACE, "unable to allocate the file struct", ENOMEM);
        return NULL;
    }
    file->fd = fd;
    file->offset = (haddr_t)info->offset;
    haddr_t size = (haddr_t)st.st_size;
    file->eof = (flags & H5F_ACC_TRUNC) || size <= file->offset ? 0 : size - file->offset;
    file->eoa = 0;
    return &file->pub;
}

static inline herr_t chdf5_offset_close(H5FD_t *pub) {
    chdf5_offset_file *file = (chdf5_offset_file *)pub;
    int status = close(file->fd);
    int code = errno;
    free(file);
    if (status != 0) {
        chdf5_offset_error("chdf5_offset_close", H5E_IO, H5E_CANTCLOSEFILE, "unable to close the container", code);
        return -1;
    }
    return 0;
}

static inline herr_t chdf5_offset_query(const H5FD_t *pub, unsigned long *flags) {
    (void)pub;
    if (flags) {
        *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE
            | H5FD_FEAT_AGGREGATE_SMALLDATA;
    }
    return 0;
}

static inline haddr_t chdf5_offset_get_eoa(const H5FD_t *pub, H5FD_mem_t type) {
    (void)type;
    return ((const chdf5_offset_file *)pub)->eoa;
}

static inline herr_t chdf5_offset_set_eoa(H5FD_t *pub, H5FD_mem_t type, haddr_t addr) {
    (void)type;
    if (addr > CHDF5_OFFSET_MAXADDR) return -1;
    ((chdf5_offset_file *)pub)->eoa = addr;
    return 0;
}

static inline haddr_t chdf5_offset_get_eof(const H5FD_t *pub, H5FD_mem_t type) {
    (void)type;
    return ((const chdf5_offset_file *)pub)->eof;
}

/* Whether [addr, addr + size) is a valid region (no overflow, within the largest address). */
static inline int chdf5_offset_region_ok(haddr_t addr, size_t size) {
    return addr != HADDR_UNDEF && addr <= CHDF5_OFFSET_MAXADDR && (haddr_t)size <= CHDF5_OFFSET_MAXADDR - addr;
}

static inline herr_t chdf5_offset_read(H5FD_t *pub, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, void *buffer) {
    (void)type; (void)dxpl;
    chdf5_offset_file *file = (chdf5_offset_file *)pub;
    if (!chdf5_offset_region_ok(addr, size)) {
        H5Epush2(H5E_DEFAULT, __FILE__, "chdf5_offset_read", __LINE__, H5E_ERR_CLS, H5E_ARGS, H5E_OVERFLOW, "address overflow");
        return -1;
    }
    unsigned char *out = (unsigned char *)buffer;
    off_t at = (off_t)(file->offset + addr);
    while (size > 0) {
        size_t chunk = size > ((size_t)1 << 30) ? ((size_t)1 << 30) : size;
        ssize_t n = pread(file->fd, out, chunk, at);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            chdf5_offset_error("chdf5_offset_read", H5E_IO, H5E_READERROR, "file read failed", errno);
            return -1;
        }
        if (n == 0) {
            memset(out, 0, size);   /* past the end: zeros, as sec2 reads them */
            break;
        }
        out += n;
        at += n;
        size -= (size_t)n;
    }
    return 0;
}

static inline herr_t chdf5_offset_write(H5FD_t *pub, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, const void *buffer) {
    (void)type; (void)dxpl;
    chdf5_offset_file *file = (chdf5_offset_file *)pub;
    if (!chdf5_offset_region_ok(addr, size)) {
        H5Epush2(H5E_DEFAULT, __FILE__, "chdf5_offset_write", __LINE__, H5E_ERR_CLS, H5E_ARGS, H5E_OVERFLOW, "address overflow");
        return -1;
    }
    const unsigned char *in = (const unsigned char *)buffer;
    off_t at = (off_t)(file->offset + addr);
    haddr_t end = addr + size;
    while (size > 0) {
        size_t chunk = size > ((size_t)1 << 30) ? ((size_t)1 << 30) : size;
        ssize_t n = pwrite(file->fd, in, chunk, at);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            chdf5_offset_error("chdf5_offset_write", H5E_IO, H5E_WRITEERROR, "file write failed", n < 0 ? errno : ENOSPC);
            return -1;
        }
        in += n;
        at += n;
        size -= (size_t)n;
    }
    if (end > file->eof) file->eof = end;
    return 0;
}

static inline herr_t chdf5_offset_truncate(H5FD_t *pub, hid_t dxpl, hbool_t closing) {
    (void)dxpl; (void)closing;
    chdf5_offset_file *file = (chdf5_offset_file *)pub;
    if (file->eoa != file->eof) {
        if (ftruncate(file->fd, (off_t)(file->offset + file->eoa)) != 0) {
            chdf5_offset_error("chdf5_offset_truncate", H5E_IO, H5E_SEEKERROR, "unable to extend or cut the container", errno);
            return -1;
        }
        file->eof = file->eoa;
    }
    return 0;
}

/* Registers the driver; returns its id (negative on failure). HDF5 copies the class. */
static inline hid_t chdf5_offset_driver_register(void) {
    H5FD_class_t cls;
    memset(&cls, 0, sizeof cls);
#if H5_VERSION_GE(1, 13, 2)
    cls.version = H5FD_CLASS_VERSION;
    cls.value = (H5FD_class_value_t)0x1B0;
#endif
    cls.name = "bnconv_offset";
    cls.maxaddr = CHDF5_OFFSET_MAXADDR;
    cls.fc_degree = H5F_CLOSE_WEAK;
    cls.fapl_size = sizeof(chdf5_offset_info);
    cls.open = chdf5_offset_open;
    cls.close = chdf5_offset_close;
    cls.query = chdf5_offset_query;
    cls.get_eoa = chdf5_offset_get_eoa;
    cls.set_eoa = chdf5_offset_set_eoa;
    cls.get_eof = chdf5_offset_get_eof;
    cls.read = chdf5_offset_read;
    cls.write = chdf5_offset_write;
    cls.truncate = chdf5_offset_truncate;
    H5FD_mem_t map[H5FD_MEM_NTYPES] = H5FD_FLMAP_DICHOTOMY;
    memcpy(cls.fl_map, map, sizeof map);
    return H5FDregister(&cls);
}

/* Selects the driver (id from chdf5_offset_driver_register) for `fapl`, the HDF5 file starting at
 * byte `offset` of the container. */
static inline herr_t chdf5_set_fapl_offset(hid_t fapl, hid_t driver, int64_t offset) {
    chdf5_offset_info info = { offset };
    return H5Pset_driver(fapl, driver, &info);
}

#endif
