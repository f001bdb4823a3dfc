/*
 * larod.h - osprey's implementation of the Larod 3 C API.
 *
 * An application written against the public Larod 3.x API compiles and links
 * unchanged against this header and liblarod (-llarod). The library talks to
 * the osprey ML service, ospreyd, over a Unix socket; tensor memory is shared
 * with the service through file descriptors and is never copied through the
 * socket.
 *
 * Conventions (as in Larod):
 *  - Every function that can fail takes a `larodError** error` as its last
 *    argument. On failure, when `error` is non-NULL and `*error` is NULL, a
 *    newly allocated larodError is stored there; release it with
 *    larodClearError(). Passing NULL ignores the error details.
 *  - Handles (connection, model, tensor, map, job request) are opaque.
 *  - Callbacks of asynchronous calls run on a thread owned by liblarod. The
 *    larodError passed to a callback belongs to liblarod and is only valid
 *    during the call.
 *
 * The socket is $OSPREY_SOCKET when set, else /run/osprey/osprey.sock for
 * root and $XDG_RUNTIME_DIR/osprey.sock for other users.
 */
#ifndef OSPREY_LAROD_H
#define OSPREY_LAROD_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "larod-version.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest number of dimensions (and pitches) of a tensor. */
#define LAROD_TENSOR_MAX_LEN 12

/* Model id that never names a model. */
#define LAROD_INVALID_MODEL_ID UINT64_MAX

/* File descriptor value of a tensor that has none. */
#define LAROD_INVALID_FD (INT_MIN)

/* Properties of a tensor's file descriptor (bit flags). */
#define LAROD_FD_PROP_READWRITE (UINT32_C(1) << 0) /* read()/write()/lseek() work */
#define LAROD_FD_PROP_MAP (UINT32_C(1) << 1)       /* mmap() works */
#define LAROD_FD_PROP_DMABUF (UINT32_C(1) << 2)    /* the fd is a dma-buf */

/* Common combinations. */
#define LAROD_FD_TYPE_DMA (LAROD_FD_PROP_DMABUF | LAROD_FD_PROP_MAP)
#define LAROD_FD_TYPE_DISK (LAROD_FD_PROP_READWRITE | LAROD_FD_PROP_MAP)

/* A device that runs models: a name ("cpu-tflite", "cpu-proc") plus an
 * instance number. Device handles belong to liblarod and stay valid for the
 * life of the process. */
typedef struct larodDevice larodDevice;

/* Who may see and use a loaded model. */
typedef enum {
  LAROD_ACCESS_INVALID = 0,
  LAROD_ACCESS_PRIVATE = 1,       /* only the session that loaded it */
  LAROD_ACCESS_PUBLIC = 2,        /* every session (deprecated in Larod) */
  LAROD_ACCESS_USER_PROTECTED = 3 /* sessions of the same user id */
} larodAccess;

/* Error codes. */
typedef enum {
  LAROD_ERROR_NONE = 0,
  LAROD_ERROR_JOB = -1,
  LAROD_ERROR_LOAD_MODEL = -2,
  LAROD_ERROR_FD = -3,
  LAROD_ERROR_MODEL_NOT_FOUND = -4,
  LAROD_ERROR_PERMISSION = -5,
  LAROD_ERROR_CONNECTION = -6,
  LAROD_ERROR_CREATE_SESSION = -7,
  LAROD_ERROR_KILL_SESSION = -8,
  LAROD_ERROR_INVALID_CHIP_ID = -9,
  LAROD_ERROR_INVALID_ACCESS = -10,
  LAROD_ERROR_DELETE_MODEL = -11,
  LAROD_ERROR_TENSOR_MISMATCH = -12,
  LAROD_ERROR_VERSION_MISMATCH = -13,
  LAROD_ERROR_ALLOC = -14,
  LAROD_ERROR_POWER_NOT_AVAILABLE = -15,
  LAROD_ERROR_MAX_ERRNO = 1024 /* positive codes below this are errno values (EINVAL: bad argument) */
} larodErrorCode;

/* Element type of a tensor. */
typedef enum {
  LAROD_TENSOR_DATA_TYPE_INVALID = 0,
  LAROD_TENSOR_DATA_TYPE_UNSPECIFIED,
  LAROD_TENSOR_DATA_TYPE_BOOL,
  LAROD_TENSOR_DATA_TYPE_UINT8,
  LAROD_TENSOR_DATA_TYPE_INT8,
  LAROD_TENSOR_DATA_TYPE_UINT16,
  LAROD_TENSOR_DATA_TYPE_INT16,
  LAROD_TENSOR_DATA_TYPE_UINT32,
  LAROD_TENSOR_DATA_TYPE_INT32,
  LAROD_TENSOR_DATA_TYPE_UINT64,
  LAROD_TENSOR_DATA_TYPE_INT64,
  LAROD_TENSOR_DATA_TYPE_FLOAT16,
  LAROD_TENSOR_DATA_TYPE_FLOAT32,
  LAROD_TENSOR_DATA_TYPE_FLOAT64,
  LAROD_TENSOR_DATA_TYPE_MAX
} larodTensorDataType;

/* Memory layout of a tensor.
 * NHWC: dims (N, H, W, C), interleaved channels (RGB interleaved images).
 * NCHW: dims (N, C, H, W), planar channels (RGB planar images).
 * 420SP: NV12 images; dims (3, H, W); pitches (total bytes, bytes of the Y
 *        plane, row pitch), the interleaved UV plane follows the Y plane. */
typedef enum {
  LAROD_TENSOR_LAYOUT_INVALID = 0,
  LAROD_TENSOR_LAYOUT_UNSPECIFIED,
  LAROD_TENSOR_LAYOUT_NHWC,
  LAROD_TENSOR_LAYOUT_NCHW,
  LAROD_TENSOR_LAYOUT_420SP,
  LAROD_TENSOR_LAYOUT_MAX
} larodTensorLayout;

/* Details of a failure. Allocated by liblarod; free with larodClearError(). */
typedef struct {
  larodErrorCode code;
  const char* msg;
} larodError;

/* Dimensions of a tensor, outermost first. len == 0 means "not specified". */
typedef struct {
  size_t dims[LAROD_TENSOR_MAX_LEN];
  size_t len;
} larodTensorDims;

/* Pitches of a tensor: pitches[i] is the number of bytes between two
 * consecutive elements of dimension i-1, i.e. the byte size of one slice of
 * dimensions i..len-1 including padding; pitches[0] is the byte size of the
 * whole tensor. len == 0 means "not specified". */
typedef struct {
  size_t pitches[LAROD_TENSOR_MAX_LEN];
  size_t len;
} larodTensorPitches;

typedef struct larodConnection larodConnection;
typedef struct larodModel larodModel;
typedef struct larodTensor larodTensor;
typedef struct larodMap larodMap;
typedef struct larodJobRequest larodJobRequest;

/* Called when larodLoadModelAsync() finishes: `model` (NULL on failure) is
 * owned by the application, `error` (NULL on success) by liblarod. */
typedef void (*larodLoadModelCallback)(larodModel* model, void* userData, larodError* error);

/* Called when larodRunJobAsync() finishes; `error` is NULL on success and is
 * owned by liblarod. */
typedef void (*larodRunJobCallback)(void* userData, larodError* error);

/* ---- Errors ---------------------------------------------------------- */

/* Frees *error (may be NULL) and sets it to NULL. */
void larodClearError(larodError** error);

/* ---- Connection ------------------------------------------------------ */

bool larodConnect(larodConnection** conn, larodError** error);
/* Closes the connection and sets *conn to NULL. The service frees the
 * session's private models and allocated tensors. Pending asynchronous jobs
 * complete with LAROD_ERROR_CONNECTION. */
bool larodDisconnect(larodConnection** conn, larodError** error);
/* Number of sessions (connections) the service currently has. */
bool larodGetNumSessions(larodConnection* conn, uint64_t* numSessions, larodError** error);

/* ---- Devices --------------------------------------------------------- */

const larodDevice* larodGetDevice(const larodConnection* conn, const char* name, const uint32_t instance,
                                  larodError** error);
const char* larodGetDeviceName(const larodDevice* dev, larodError** error);
bool larodGetDeviceInstance(const larodDevice* dev, uint32_t* instance, larodError** error);
/* Returns a malloc'ed array of *numDevices device handles; free() the array
 * (not the handles). */
const larodDevice** larodListDevices(larodConnection* conn, size_t* numDevices, larodError** error);

/* ---- Models ---------------------------------------------------------- */

/* Loads a model from `fd` (a .tflite file for cpu-tflite; -1 for cpu-proc,
 * which is configured by `params`). */
larodModel* larodLoadModel(larodConnection* conn, const int fd, const larodDevice* dev,
                           const larodAccess access, const char* name, const larodMap* params,
                           larodError** error);
bool larodLoadModelAsync(larodConnection* conn, const int inFd, const larodDevice* dev,
                         const larodAccess access, const char* name, const larodMap* params,
                         larodLoadModelCallback callback, void* userData, larodError** error);
/* A handle to a model visible to this session; destroy with larodDestroyModel(). */
larodModel* larodGetModel(larodConnection* conn, const uint64_t modelId, larodError** error);
/* All models visible to this session: a malloc'ed array of handles, release
 * with larodDestroyModels(). */
larodModel** larodGetModels(larodConnection* conn, size_t* numModels, larodError** error);
/* Frees the local handle only; the model stays loaded in the service. */
void larodDestroyModel(larodModel** model);
void larodDestroyModels(larodModel*** models, size_t numModels);
/* Unloads the model from the service. */
bool larodDeleteModel(larodConnection* conn, larodModel* model, larodError** error);

uint64_t larodGetModelId(const larodModel* model, larodError** error);
const larodDevice* larodGetModelDevice(const larodModel* model, larodError** error);
size_t larodGetModelSize(const larodModel* model, larodError** error);
const char* larodGetModelName(const larodModel* model, larodError** error);
larodAccess larodGetModelAccess(const larodModel* model, larodError** error);
size_t larodGetModelNumInputs(const larodModel* model, larodError** error);
size_t larodGetModelNumOutputs(const larodModel* model, larodError** error);
/* Deprecated in Larod 3.1 (use larodGetTensorByteSize()); malloc'ed arrays. */
size_t* larodGetModelInputByteSizes(const larodModel* model, size_t* numInputs, larodError** error);
size_t* larodGetModelOutputByteSizes(const larodModel* model, size_t* numOutputs, larodError** error);

/* ---- Tensors --------------------------------------------------------- */

/* Tensors described like the model's inputs/outputs, without memory. */
larodTensor** larodCreateModelInputs(const larodModel* model, size_t* numTensors, larodError** error);
larodTensor** larodCreateModelOutputs(const larodModel* model, size_t* numTensors, larodError** error);
/* Tensors described like the model's inputs/outputs with memory allocated by
 * the service (one file descriptor per tensor, owned by liblarod). */
larodTensor** larodAllocModelInputs(larodConnection* conn, const larodModel* model,
                                    const uint32_t fdPropFlags, size_t* numTensors, larodMap* params,
                                    larodError** error);
larodTensor** larodAllocModelOutputs(larodConnection* conn, const larodModel* model,
                                     const uint32_t fdPropFlags, size_t* numTensors, larodMap* params,
                                     larodError** error);
/* Blank tensors, all fields unspecified. */
larodTensor** larodCreateTensors(const size_t numTensors, larodError** error);
/* Frees tensors (and the memory the service allocated for them) and sets
 * *tensors to NULL. */
bool larodDestroyTensors(larodConnection* conn, larodTensor*** tensors, const size_t numTensors,
                         larodError** error);

bool larodSetTensorDims(larodTensor* tensor, const larodTensorDims* dims, larodError** error);
/* Sets the dims of an image tensor of `layout` from its width, height and
 * channels: NHWC (1, height, width, numChannels), NCHW (1, numChannels,
 * height, width), 420SP (3, height, width; numChannels must be 3). Zero
 * sizes, another layout or a size whose element count overflows: EINVAL. */
bool larodBuildTensorDims(larodTensor* tensor, const larodTensorLayout layout, const size_t width,
                          const size_t height, const size_t numChannels, larodError** error);
const larodTensorDims* larodGetTensorDims(const larodTensor* tensor, larodError** error);
bool larodSetTensorPitches(larodTensor* tensor, const larodTensorPitches* pitches, larodError** error);
const larodTensorPitches* larodGetTensorPitches(const larodTensor* tensor, larodError** error);
/* Sets the pitches of an image tensor of `layout` from its row pitch in
 * bytes, height and channels (elements of the tensor's data type; uint8 when
 * unspecified): NHWC (pitch*height, pitch*height, pitch, numChannels*size),
 * NCHW (numChannels*height*pitch, same, height*pitch, pitch), 420SP (Y plane
 * + UV plane, pitch*height, pitch; numChannels must be 3). A pitch shorter
 * than a row of the tensor's dims, zero sizes, another layout or an
 * overflowing size: EINVAL. */
bool larodBuildTensorPitches(larodTensor* tensor, const larodTensorLayout layout, const size_t pitch,
                             const size_t height, const size_t numChannels, larodError** error);
bool larodSetTensorDataType(larodTensor* tensor, const larodTensorDataType dataType, larodError** error);
larodTensorDataType larodGetTensorDataType(const larodTensor* tensor, larodError** error);
bool larodSetTensorLayout(larodTensor* tensor, const larodTensorLayout layout, larodError** error);
larodTensorLayout larodGetTensorLayout(const larodTensor* tensor, larodError** error);
bool larodSetTensorFd(larodTensor* tensor, const int fd, larodError** error);
int larodGetTensorFd(const larodTensor* tensor, larodError** error);
/* Size of the memory behind the fd (0: use the file's size). */
bool larodSetTensorFdSize(larodTensor* tensor, const size_t size, larodError** error);
bool larodGetTensorFdSize(const larodTensor* tensor, size_t* size, larodError** error);
/* Where the tensor's data starts in the fd's memory. */
bool larodSetTensorFdOffset(larodTensor* tensor, const int64_t offset, larodError** error);
int64_t larodGetTensorFdOffset(const larodTensor* tensor, larodError** error);
bool larodSetTensorFdProps(larodTensor* tensor, const uint32_t fdPropFlags, larodError** error);
bool larodGetTensorFdProps(const larodTensor* tensor, uint32_t* fdPropFlags, larodError** error);
const char* larodGetTensorName(const larodTensor* tensor, larodError** error);
bool larodGetTensorByteSize(const larodTensor* tensor, size_t* byteSize, larodError** error);
/* Registers the tensor's fd with the service once, so later jobs do not pass
 * it again. The tensor's fd cannot change afterwards. */
bool larodTrackTensor(larodConnection* conn, larodTensor* tensor, larodError** error);
/* Returns a new file descriptor (the caller closes it) for the memory that
 * starts at `offset` in `fd`, for use as a LAROD_FD_TYPE_DMA tensor with
 * offset 0. On a camera this turns a VDO vmem buffer into a dma-buf; a PC has
 * no vmem, so osprey serves it from the buffers it has (memfds, files,
 * dma-bufs) and needs offset 0 (zero copy means the new fd is the same
 * memory). Failure: LAROD_INVALID_FD with LAROD_ERROR_FD (not open, not
 * memory, offset beyond the end or not 0) or EINVAL (negative offset). */
int larodConvertVmemFdToDmabuf(const int fd, const int64_t offset, larodError** error);

/* ---- Maps (model and job parameters) --------------------------------- */

larodMap* larodCreateMap(larodError** error);
void larodDestroyMap(larodMap** map);
bool larodMapSetStr(larodMap* map, const char* key, const char* value, larodError** error);
bool larodMapSetInt(larodMap* map, const char* key, const int64_t value, larodError** error);
bool larodMapSetIntArr2(larodMap* map, const char* key, const int64_t value0, const int64_t value1,
                        larodError** error);
bool larodMapSetIntArr4(larodMap* map, const char* key, const int64_t value0, const int64_t value1,
                        const int64_t value2, const int64_t value3, larodError** error);
/* Returned pointers point into the map and stay valid until the key is set
 * again or the map is destroyed. */
const char* larodMapGetStr(larodMap* map, const char* key, larodError** error);
bool larodMapGetInt(larodMap* map, const char* key, int64_t* value, larodError** error);
const int64_t* larodMapGetIntArr2(larodMap* map, const char* key, larodError** error);
const int64_t* larodMapGetIntArr4(larodMap* map, const char* key, larodError** error);

/* ---- Jobs ------------------------------------------------------------ */

/* A job: run `model` on input tensors, writing output tensors. `params` is
 * copied. The default priority is 50 (0..100, higher runs first). */
larodJobRequest* larodCreateJobRequest(const larodModel* model, larodTensor** inTensors,
                                       const size_t numInTensors, larodTensor** outTensors,
                                       const size_t numOutTensors, larodMap* params, larodError** error);
void larodDestroyJobRequest(larodJobRequest** jobReq);
bool larodSetJobRequestModel(larodJobRequest* jobReq, const larodModel* model, larodError** error);
bool larodSetJobRequestInputs(larodJobRequest* jobReq, larodTensor** tensors, const size_t numTensors,
                              larodError** error);
bool larodSetJobRequestOutputs(larodJobRequest* jobReq, larodTensor** tensors, const size_t numTensors,
                               larodError** error);
bool larodSetJobRequestPriority(larodJobRequest* jobReq, const uint8_t priority, larodError** error);
bool larodSetJobRequestParams(larodJobRequest* jobReq, const larodMap* params, larodError** error);
/* Runs the job and waits for it. */
bool larodRunJob(larodConnection* conn, const larodJobRequest* jobReq, larodError** error);
/* Queues the job; `callback` runs when it is done. The request may be changed
 * or destroyed right after this returns; the tensors' memory must stay valid
 * until the callback. When this returns false the callback is never called. */
bool larodRunJobAsync(larodConnection* conn, const larodJobRequest* jobReq, larodRunJobCallback callback,
                      void* userData, larodError** error);

/* ---- Export ---------------------------------------------------------- */

/* Prepares the model in `modelFd` for `dev` with `params`, exactly as
 * larodLoadModel() would (so a model the device refuses fails the same way),
 * and writes the model the device runs to `outputFd` at its current position.
 * osprey's devices run the .tflite itself, so the bytes written are the
 * model file's. */
bool larodExportModel(larodConnection* conn, const int modelFd, const int outputFd, const larodDevice* dev,
                      const larodMap* params, larodError** error);

#ifdef __cplusplus
}
#endif

#endif /* OSPREY_LAROD_H */
