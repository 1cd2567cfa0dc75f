#ifndef CHDF5_LENT_IMAGE_H
#define CHDF5_LENT_IMAGE_H
/* A read-only HDF5 file image lent to libhdf5 without a copy: bytes the caller keeps alive (a
 * read-only mapping of a STORED zip member) for as long as the file is open.
 *
 * By default H5Pset_file_image copies the buffer into the property list, H5Fopen copies the list
 * (and so the image) again, and the core driver copies it a third time into its own memory. The
 * file image callbacks (H5Pset_file_image_callbacks, H5FD_file_image_callbacks_t in H5FDpublic.h)
 * replace those allocations and copies: here every "allocation" of the image's size returns the
 * lent bytes themselves, every "copy" from them onto them is a no-op, and "free" releases nothing.
 * What HDF5 would do beyond that fails: a reallocation (the file growing: it is opened read-only,
 * so never), a copy to or from other memory (H5Pget_file_image), an allocation of another size.
 * This is HDF5's own H5LT_FILE_IMAGE_DONT_COPY | H5LT_FILE_IMAGE_DONT_RELEASE mode of
 * H5LTopen_file_image (hl/src/H5LT.c), without its reference counts: the bytes are owned by the
 * caller, who frees `chdf5_lent_image` and the bytes only after H5Fclose and H5Pclose. */
#include <hdf5.h>

typedef struct {
    void *base;   /* the lent bytes */
    size_t size;  /* their count */
} chdf5_lent_image;

static inline void *chdf5_lent_image_malloc(size_t size, H5FD_file_image_op_t op, void *udata) {
    const chdf5_lent_image *image = (const chdf5_lent_image *)udata;
    switch (op) {
    case H5FD_FILE_IMAGE_OP_PROPERTY_LIST_SET:
    case H5FD_FILE_IMAGE_OP_PROPERTY_LIST_COPY:
    case H5FD_FILE_IMAGE_OP_FILE_OPEN:
        return size == image->size ? image->base : NULL;
    default:
        return NULL;
    }
}

static inline void *chdf5_lent_image_memcpy(void *dest, const void *src, size_t size, H5FD_file_image_op_t op, void *udata) {
    const chdf5_lent_image *image = (const chdf5_lent_image *)udata;
    switch (op) {
    case H5FD_FILE_IMAGE_OP_PROPERTY_LIST_SET:
    case H5FD_FILE_IMAGE_OP_PROPERTY_LIST_COPY:
    case H5FD_FILE_IMAGE_OP_FILE_OPEN:
        return dest == image->base && src == image->base && size == image->size ? dest : NULL;
    default:
        return NULL;
    }
}

static inline void *chdf5_lent_image_realloc(void *ptr, size_t size, H5FD_file_image_op_t op, void *udata) {
    (void)ptr; (void)size; (void)op; (void)udata;
    return NULL;
}

static inline herr_t chdf5_lent_image_free(void *ptr, H5FD_file_image_op_t op, void *udata) {
    const chdf5_lent_image *image = (const chdf5_lent_image *)udata;
    (void)op;
    return ptr == image->base ? 0 : -1;
}

static inline void *chdf5_lent_image_udata_copy(void *udata) { return udata; }

static inline herr_t chdf5_lent_image_udata_free(void *udata) { (void)udata; return 0; }

/* Lends `image` (filled in by the caller, kept alive until the file and `fapl` are closed) to the
 * file-access list `fapl`, which must use the core driver. The callbacks go first: HDF5 refuses
 * them once an image is set. */
static inline herr_t chdf5_lend_file_image(hid_t fapl, chdf5_lent_image *image) {
    H5FD_file_image_callbacks_t callbacks = {
        chdf5_lent_image_malloc, chdf5_lent_image_memcpy, chdf5_lent_image_realloc, chdf5_lent_image_free,
        chdf5_lent_image_udata_copy, chdf5_lent_image_udata_free, image
    };
    if (H5Pset_file_image_callbacks(fapl, &callbacks) < 0) return -1;
    return H5Pset_file_image(fapl, image->base, image->size);
}

#endif
