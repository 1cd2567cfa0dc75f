#ifndef CHDF5_SHIM_H
#define CHDF5_SHIM_H
/* Thin shim over libhdf5: static inline getters for the macros Swift cannot import
 * (H5F_ACC_*, H5T_* and H5P_* globals, which expand to function calls), and wrappers for the
 * calls whose names or structs changed between HDF5 1.10 and 1.12+ (H5Literate, H5Oget_info).
 * Facts: docs/formats.md, libhdf5. Names are prefixed with the module (chdf5_). */
#include <hdf5.h>
#include <string.h>
#include "lent_image.h"
#include "offset_driver.h"

static inline unsigned chdf5_acc_rdonly(void) { return H5F_ACC_RDONLY; }
static inline unsigned chdf5_acc_rdwr(void) { return H5F_ACC_RDWR; }
static inline unsigned chdf5_acc_trunc(void) { return H5F_ACC_TRUNC; }
static inline unsigned chdf5_acc_excl(void) { return H5F_ACC_EXCL; }

static inline hid_t chdf5_p_default(void) { return H5P_DEFAULT; }
static inline hid_t chdf5_p_file_access(void) { return H5P_FILE_ACCESS; }
static inline hid_t chdf5_p_file_create(void) { return H5P_FILE_CREATE; }
static inline hid_t chdf5_p_dataset_create(void) { return H5P_DATASET_CREATE; }
static inline hid_t chdf5_p_link_create(void) { return H5P_LINK_CREATE; }
static inline hid_t chdf5_p_object_copy(void) { return H5P_OBJECT_COPY; }
static inline hid_t chdf5_s_all(void) { return H5S_ALL; }
static inline hid_t chdf5_e_default(void) { return H5E_DEFAULT; }

static inline hid_t chdf5_t_c_s1(void) { return H5T_C_S1; }
static inline hid_t chdf5_t_native_float(void) { return H5T_NATIVE_FLOAT; }
static inline hid_t chdf5_t_native_double(void) { return H5T_NATIVE_DOUBLE; }
static inline hid_t chdf5_t_native_int32(void) { return H5T_NATIVE_INT32; }
static inline hid_t chdf5_t_native_int64(void) { return H5T_NATIVE_INT64; }
static inline hid_t chdf5_t_native_uint8(void) { return H5T_NATIVE_UINT8; }
static inline hid_t chdf5_t_ieee_f32le(void) { return H5T_IEEE_F32LE; }
static inline hid_t chdf5_t_ieee_f64le(void) { return H5T_IEEE_F64LE; }
static inline hid_t chdf5_t_std_i32le(void) { return H5T_STD_I32LE; }
static inline hid_t chdf5_t_std_i64le(void) { return H5T_STD_I64LE; }
static inline hid_t chdf5_t_std_u8le(void) { return H5T_STD_U8LE; }
static inline hid_t chdf5_t_std_i8le(void) { return H5T_STD_I8LE; }
static inline hid_t chdf5_t_std_b8le(void) { return H5T_STD_B8LE; }

/* Additions for the Keras reader/writer (kerasio): more native types, H5T_VARIABLE, H5S_UNLIMITED,
 * the float16 memory type shared by reads and writes. */
static inline hid_t chdf5_t_native_int8(void) { return H5T_NATIVE_INT8; }
static inline hid_t chdf5_t_native_int16(void) { return H5T_NATIVE_INT16; }
static inline hid_t chdf5_t_std_i16le(void) { return H5T_STD_I16LE; }
static inline size_t chdf5_t_variable(void) { return H5T_VARIABLE; }
static inline hsize_t chdf5_s_unlimited(void) { return H5S_UNLIMITED; }
static inline hid_t chdf5_p_dataset_xfer(void) { return H5P_DATASET_XFER; }
static inline hid_t chdf5_p_attribute_create(void) { return H5P_ATTRIBUTE_CREATE; }

/* IEEE half, little-endian, built as h5py does (h5py h5t.templ.pyx): there is no predefined
 * H5T_IEEE_F16LE before HDF5 1.14.4. The caller closes the returned type. */
static inline hid_t chdf5_make_f16le(void) {
    hid_t t = H5Tcopy(H5T_IEEE_F32LE);
    if (t < 0) return t;
    if (H5Tset_fields(t, 15, 10, 5, 0, 10) < 0 || H5Tset_size(t, 2) < 0 || H5Tset_ebias(t, 15) < 0) {
        H5Tclose(t);
        return -1;
    }
    return t;
}

/* Link iteration by name (Keras files do not track creation order). 1.10 and 1.12+ differ in the
 * callback's info struct, which the callback here never needs. */
typedef herr_t (*chdf5_link_cb)(hid_t group, const char *name, void *op_data);

struct chdf5_link_ctx { chdf5_link_cb cb; void *op_data; };

static inline herr_t chdf5_link_trampoline(hid_t g, const char *name, const H5L_info_t *info, void *op) {
    (void)info;
    struct chdf5_link_ctx *ctx = (struct chdf5_link_ctx *)op;
    return ctx->cb(g, name, ctx->op_data);
}

static inline herr_t chdf5_iterate_links(hid_t group, chdf5_link_cb cb, void *op_data) {
    struct chdf5_link_ctx ctx = { cb, op_data };
    hsize_t idx = 0;
    return H5Literate(group, H5_INDEX_NAME, H5_ITER_INC, &idx, chdf5_link_trampoline, &ctx);
}

/* Object type of a child (group, dataset, ...) by name: H5O_TYPE_* or -1. */
static inline int chdf5_object_type(hid_t loc, const char *name) {
#if H5_VERSION_GE(1, 12, 0)
    H5O_info2_t info;
    if (H5Oget_info_by_name3(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#else
    H5O_info_t info;
    if (H5Oget_info_by_name2(loc, name, &info, H5O_INFO_BASIC, H5P_DEFAULT) < 0) return -1;
#endif
    return (int)info.type;
}

/* Attribute iteration by name; the callback gets only the attribute name. */
typedef herr_t (*chdf5_attr_cb)(hid_t obj, const char *name, void *op_data);
struct chdf5_attr_ctx { chdf5_attr_cb cb; void *op_data; };
static inline herr_t chdf5_attr_trampoline(hid_t obj, const char *name, const H5A_info_t *info, void *op) {
    (void)info;
    struct chdf5_attr_ctx *ctx = (struct chdf5_attr_ctx *)op;
    return ctx->cb(obj, name, ctx->op_data);
}
static inline herr_t chdf5_iterate_attributes(hid_t obj, chdf5_attr_cb cb, void *op_data) {
    struct chdf5_attr_ctx ctx = { cb, op_data };
    hsize_t idx = 0;
    return H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &idx, chdf5_attr_trampoline, &ctx);
}

/* Error stack: silence automatic printing; collect the current stack as text into buf. */
static inline void chdf5_silence_errors(void) { H5Eset_auto2(H5E_DEFAULT, NULL, NULL); }

struct chdf5_err_buf { char *buf; size_t cap; size_t len; };
static inline herr_t chdf5_err_walk(unsigned n, const H5E_error2_t *e, void *op) {
    struct chdf5_err_buf *b = (struct chdf5_err_buf *)op;
    if (b->len >= b->cap) return 0;
    const char *desc = e->desc ? e->desc : "";
    const char *fn = e->func_name ? e->func_name : "";
    int w = snprintf(b->buf + b->len, b->cap - b->len, "%s%s(): %s", b->len ? "; " : "", fn, desc);
    (void)n;
    if (w > 0) b->len += (size_t)w < b->cap - b->len ? (size_t)w : b->cap - b->len - 1;
    return 0;
}
/* Writes the innermost-first description of the current error stack into buf and clears it. */
static inline void chdf5_take_error_stack(char *buf, size_t cap) {
    if (cap == 0) return;
    buf[0] = 0;
    hid_t st = H5Eget_current_stack();
    if (st < 0) return;
    struct chdf5_err_buf b = { buf, cap, 0 };
    H5Ewalk2(st, H5E_WALK_UPWARD, chdf5_err_walk, &b);
    H5Eclose_stack(st);
}

/* Where a link leads: 0 for a link inside this file (hard or soft), 1 for one that leads out of it
 * (an external link, or a user-defined link type), -1 on error. H5L_info_t is H5L_info2_t in 1.12+
 * (API default mapping); both have the link type in `type`. */
static inline int chdf5_link_leaves_file(hid_t loc, const char *name) {
    H5L_info_t info;
    if (H5Lget_info(loc, name, &info, H5P_DEFAULT) < 0) return -1;
    return (info.type == H5L_TYPE_HARD || info.type == H5L_TYPE_SOFT) ? 0 : 1;
}

/* Whether a dataset's data lies outside this file: external storage (H5Pset_external) or a
 * virtual dataset mapping other files. 1 yes, 0 no, -1 on error. */
static inline int chdf5_dataset_reads_elsewhere(hid_t dataset) {
    hid_t plist = H5Dget_create_plist(dataset);
    if (plist < 0) return -1;
    int external = H5Pget_external_count(plist);
    H5D_layout_t layout = H5Pget_layout(plist);
    H5Pclose(plist);
    if (external < 0 || layout < 0) return -1;
    return (external > 0 || layout == H5D_VIRTUAL) ? 1 : 0;
}

#endif
