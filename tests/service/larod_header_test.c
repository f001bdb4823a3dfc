/*
 * The public Larod 3 header (liblarod 3.6), checked against osprey's.
 *
 * After including <larod.h>, every one of the 72 functions of the public
 * header is declared again exactly as the public API reference gives it: a
 * prototype that differs from osprey's in any parameter or return type is a
 * "conflicting types" error, and this file is built with -Wall -Wextra
 * -Wpedantic -Werror. Enum values, macros and the layout of the public
 * structs are static assertions. At run time every function must resolve
 * (liblarod exports all 72) and the version macros must say 3.6.
 */
#include <larod.h>

#include <limits.h>
#include <stdalign.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* ---- The 72 prototypes of the public header -------------------------- */

void larodClearError(larodError** error);
bool larodConnect(larodConnection** conn, larodError** error);
bool larodDisconnect(larodConnection** conn, larodError** error);
bool larodGetNumSessions(larodConnection* conn, uint64_t* numSessions, larodError** error);
const larodDevice* larodGetDevice(const larodConnection* conn, const char* name, const uint32_t instance,
                                  larodError** error);
const char* larodGetDeviceName(const larodDevice* dev, larodError** error);
bool larodGetDeviceInstance(const larodDevice* dev, uint32_t* instance, larodError** error);
const larodDevice** larodListDevices(larodConnection* conn, size_t* numDevices, larodError** error);
larodModel* larodLoadModel(larodConnection* conn, const int fd, const larodDevice* dev, const larodAccess access,
                           const char* name, const larodMap* params, larodError** error);
bool larodLoadModelAsync(larodConnection* conn, const int inFd, const larodDevice* dev, const larodAccess access,
                         const char* name, const larodMap* params, larodLoadModelCallback callback,
                         void* userData, larodError** error);
larodModel* larodGetModel(larodConnection* conn, const uint64_t modelId, larodError** error);
larodModel** larodGetModels(larodConnection* conn, size_t* numModels, larodError** error);
void larodDestroyModel(larodModel** model);
void larodDestroyModels(larodModel*** models, size_t numModels);
bool larodDeleteModel(larodConnection* conn, larodModel* model, larodError** error);
uint64_t larodGetModelId(const larodModel* model, larodError** error);
const larodDevice* larodGetModelDevice(const larodModel* model, larodError** error);
size_t larodGetModelSize(const larodModel* model, larodError** error);
const char* larodGetModelName(const larodModel* model, larodError** error);
larodAccess larodGetModelAccess(const larodModel* model, larodError** error);
size_t larodGetModelNumInputs(const larodModel* model, larodError** error);
size_t larodGetModelNumOutputs(const larodModel* model, larodError** error);
size_t* larodGetModelInputByteSizes(const larodModel* model, size_t* numInputs, larodError** error);
size_t* larodGetModelOutputByteSizes(const larodModel* model, size_t* numOutputs, larodError** error);
larodTensor** larodCreateModelInputs(const larodModel* model, size_t* numTensors, larodError** error);
larodTensor** larodCreateModelOutputs(const larodModel* model, size_t* numTensors, larodError** error);
larodTensor** larodAllocModelInputs(larodConnection* conn, const larodModel* model, const uint32_t fdPropFlags,
                                    size_t* numTensors, larodMap* params, larodError** error);
larodTensor** larodAllocModelOutputs(larodConnection* conn, const larodModel* model, const uint32_t fdPropFlags,
                                     size_t* numTensors, larodMap* params, larodError** error);
larodTensor** larodCreateTensors(const size_t numTensors, larodError** error);
bool larodDestroyTensors(larodConnection* conn, larodTensor*** tensors, const size_t numTensors,
                         larodError** error);
bool larodSetTensorDims(larodTensor* tensor, const larodTensorDims* dims, larodError** error);
bool larodBuildTensorDims(larodTensor* tensor, const larodTensorLayout layout, const size_t width,
                          const size_t height, const size_t numChannels, larodError** error);
const larodTensorDims* larodGetTensorDims(const larodTensor* tensor, larodError** error);
bool larodSetTensorPitches(larodTensor* tensor, const larodTensorPitches* pitches, larodError** error);
bool larodBuildTensorPitches(larodTensor* tensor, const larodTensorLayout layout, const size_t pitch,
                             const size_t height, const size_t numChannels, larodError** error);
const larodTensorPitches* larodGetTensorPitches(const larodTensor* tensor, larodError** error);
bool larodSetTensorDataType(larodTensor* tensor, const larodTensorDataType dataType, larodError** error);
larodTensorDataType larodGetTensorDataType(const larodTensor* tensor, larodError** error);
bool larodSetTensorLayout(larodTensor* tensor, const larodTensorLayout layout, larodError** error);
larodTensorLayout larodGetTensorLayout(const larodTensor* tensor, larodError** error);
bool larodSetTensorFd(larodTensor* tensor, const int fd, larodError** error);
int larodGetTensorFd(const larodTensor* tensor, larodError** error);
bool larodSetTensorFdSize(larodTensor* tensor, const size_t size, larodError** error);
bool larodGetTensorFdSize(const larodTensor* tensor, size_t* size, larodError** error);
bool larodSetTensorFdOffset(larodTensor* tensor, const int64_t offset, larodError** error);
int64_t larodGetTensorFdOffset(const larodTensor* tensor, larodError** error);
bool larodTrackTensor(larodConnection* conn, larodTensor* tensor, larodError** error);
int larodConvertVmemFdToDmabuf(const int fd, const int64_t offset, larodError** error);
bool larodSetTensorFdProps(larodTensor* tensor, const uint32_t fdPropFlags, larodError** error);
bool larodGetTensorFdProps(const larodTensor* tensor, uint32_t* fdPropFlags, larodError** error);
const char* larodGetTensorName(const larodTensor* tensor, larodError** error);
bool larodGetTensorByteSize(const larodTensor* tensor, size_t* byteSize, larodError** error);
larodMap* larodCreateMap(larodError** error);
void larodDestroyMap(larodMap** map);
bool larodMapSetStr(larodMap* map, const char* key, const char* value, larodError** error);
bool larodMapSetInt(larodMap* map, const char* key, const int64_t value, larodError** error);
bool larodMapSetIntArr2(larodMap* map, const char* key, const int64_t value0, const int64_t value1,
                        larodError** error);
bool larodMapSetIntArr4(larodMap* map, const char* key, const int64_t value0, const int64_t value1,
                        const int64_t value2, const int64_t value3, larodError** error);
const char* larodMapGetStr(larodMap* map, const char* key, larodError** error);
bool larodMapGetInt(larodMap* map, const char* key, int64_t* value, larodError** error);
const int64_t* larodMapGetIntArr2(larodMap* map, const char* key, larodError** error);
const int64_t* larodMapGetIntArr4(larodMap* map, const char* key, larodError** error);
larodJobRequest* larodCreateJobRequest(const larodModel* model, larodTensor** inputTensors, size_t numInputs,
                                       larodTensor** outputTensors, size_t numOutputs, larodMap* params,
                                       larodError** error);
void larodDestroyJobRequest(larodJobRequest** jobReq);
bool larodSetJobRequestModel(larodJobRequest* jobReq, const larodModel* model, larodError** error);
bool larodSetJobRequestInputs(larodJobRequest* jobReq, larodTensor** tensors, const size_t numTensors,
                              larodError** error);
bool larodSetJobRequestOutputs(larodJobRequest* jobReq, larodTensor** tensors, const size_t numTensors,
                               larodError** error);
bool larodSetJobRequestPriority(larodJobRequest* jobReq, const uint8_t priority, larodError** error);
bool larodSetJobRequestParams(larodJobRequest* jobReq, const larodMap* params, larodError** error);
bool larodRunJob(larodConnection* conn, const larodJobRequest* jobReq, larodError** error);
bool larodRunJobAsync(larodConnection* conn, const larodJobRequest* jobReq, larodRunJobCallback callback,
                      void* userData, larodError** error);
bool larodExportModel(larodConnection* conn, const int modelFd, const int outputFd, const larodDevice* dev,
                      const larodMap* params, larodError** error);

/* The callback types: redefining a typedef to a different type is an error. */
typedef void (*larodLoadModelCallback)(larodModel* model, void* userData, larodError* error);
typedef void (*larodRunJobCallback)(void* userData, larodError* error);
/* The opaque handle types. */
typedef struct larodDevice larodDevice;
typedef struct larodConnection larodConnection;
typedef struct larodModel larodModel;
typedef struct larodTensor larodTensor;
typedef struct larodMap larodMap;
typedef struct larodJobRequest larodJobRequest;

/* ---- Macros ----------------------------------------------------------- */

_Static_assert(LAROD_VERSION_MAJOR == 3 && LAROD_VERSION_MINOR == 6, "API level 3.6");
_Static_assert(LAROD_TENSOR_MAX_LEN == 12, "LAROD_TENSOR_MAX_LEN");
_Static_assert(LAROD_INVALID_MODEL_ID == UINT64_MAX, "LAROD_INVALID_MODEL_ID");
_Static_assert(LAROD_INVALID_FD == INT_MIN, "LAROD_INVALID_FD");
_Static_assert(LAROD_FD_PROP_READWRITE == 1u && LAROD_FD_PROP_MAP == 2u && LAROD_FD_PROP_DMABUF == 4u,
               "LAROD_FD_PROP_*");
_Static_assert(LAROD_FD_TYPE_DMA == (LAROD_FD_PROP_DMABUF | LAROD_FD_PROP_MAP), "LAROD_FD_TYPE_DMA");
_Static_assert(LAROD_FD_TYPE_DISK == (LAROD_FD_PROP_READWRITE | LAROD_FD_PROP_MAP), "LAROD_FD_TYPE_DISK");
_Static_assert(_Generic(LAROD_FD_PROP_MAP, uint32_t: 1, default: 0), "fd props are uint32_t");

/* ---- Enums ------------------------------------------------------------ */

_Static_assert(LAROD_ACCESS_INVALID == 0 && LAROD_ACCESS_PRIVATE == 1 && LAROD_ACCESS_PUBLIC == 2 &&
                   LAROD_ACCESS_USER_PROTECTED == 3,
               "larodAccess");
_Static_assert(LAROD_ERROR_NONE == 0 && LAROD_ERROR_JOB == -1 && LAROD_ERROR_LOAD_MODEL == -2 &&
                   LAROD_ERROR_FD == -3 && LAROD_ERROR_MODEL_NOT_FOUND == -4 && LAROD_ERROR_PERMISSION == -5 &&
                   LAROD_ERROR_CONNECTION == -6 && LAROD_ERROR_CREATE_SESSION == -7 &&
                   LAROD_ERROR_KILL_SESSION == -8 && LAROD_ERROR_INVALID_CHIP_ID == -9 &&
                   LAROD_ERROR_INVALID_ACCESS == -10 && LAROD_ERROR_DELETE_MODEL == -11 &&
                   LAROD_ERROR_TENSOR_MISMATCH == -12 && LAROD_ERROR_VERSION_MISMATCH == -13 &&
                   LAROD_ERROR_ALLOC == -14 && LAROD_ERROR_POWER_NOT_AVAILABLE == -15 &&
                   LAROD_ERROR_MAX_ERRNO == 1024,
               "larodErrorCode");
_Static_assert(LAROD_TENSOR_DATA_TYPE_INVALID == 0 && LAROD_TENSOR_DATA_TYPE_UNSPECIFIED == 1 &&
                   LAROD_TENSOR_DATA_TYPE_BOOL == 2 && LAROD_TENSOR_DATA_TYPE_UINT8 == 3 &&
                   LAROD_TENSOR_DATA_TYPE_INT8 == 4 && LAROD_TENSOR_DATA_TYPE_UINT16 == 5 &&
                   LAROD_TENSOR_DATA_TYPE_INT16 == 6 && LAROD_TENSOR_DATA_TYPE_UINT32 == 7 &&
                   LAROD_TENSOR_DATA_TYPE_INT32 == 8 && LAROD_TENSOR_DATA_TYPE_UINT64 == 9 &&
                   LAROD_TENSOR_DATA_TYPE_INT64 == 10 && LAROD_TENSOR_DATA_TYPE_FLOAT16 == 11 &&
                   LAROD_TENSOR_DATA_TYPE_FLOAT32 == 12 && LAROD_TENSOR_DATA_TYPE_FLOAT64 == 13 &&
                   LAROD_TENSOR_DATA_TYPE_MAX == 14,
               "larodTensorDataType");
_Static_assert(LAROD_TENSOR_LAYOUT_INVALID == 0 && LAROD_TENSOR_LAYOUT_UNSPECIFIED == 1 &&
                   LAROD_TENSOR_LAYOUT_NHWC == 2 && LAROD_TENSOR_LAYOUT_NCHW == 3 &&
                   LAROD_TENSOR_LAYOUT_420SP == 4 && LAROD_TENSOR_LAYOUT_MAX == 5,
               "larodTensorLayout");
/* C enums are int-sized; the ABI passes them as int. */
_Static_assert(sizeof(larodAccess) == sizeof(int) && sizeof(larodErrorCode) == sizeof(int) &&
                   sizeof(larodTensorDataType) == sizeof(int) && sizeof(larodTensorLayout) == sizeof(int),
               "enum sizes");

/* ---- Struct layouts --------------------------------------------------- */

#define ROUND_UP(n, a) (((n) + (a)-1) / (a) * (a))
_Static_assert(offsetof(larodError, code) == 0, "larodError.code first");
_Static_assert(offsetof(larodError, msg) == ROUND_UP(sizeof(larodErrorCode), alignof(const char*)),
               "larodError.msg follows code");
_Static_assert(sizeof(larodError) == ROUND_UP(offsetof(larodError, msg) + sizeof(const char*), alignof(larodError)),
               "sizeof(larodError)");
_Static_assert(_Generic(((larodError*)0)->code, larodErrorCode: 1, default: 0), "larodError.code type");
_Static_assert(_Generic(((larodError*)0)->msg, const char*: 1, default: 0), "larodError.msg type");
_Static_assert(offsetof(larodTensorDims, dims) == 0 && offsetof(larodTensorDims, len) == 12 * sizeof(size_t) &&
                   sizeof(larodTensorDims) == 13 * sizeof(size_t),
               "larodTensorDims layout");
_Static_assert(sizeof(((larodTensorDims*)0)->dims) == 12 * sizeof(size_t), "larodTensorDims.dims");
_Static_assert(offsetof(larodTensorPitches, pitches) == 0 &&
                   offsetof(larodTensorPitches, len) == 12 * sizeof(size_t) &&
                   sizeof(larodTensorPitches) == 13 * sizeof(size_t),
               "larodTensorPitches layout");
_Static_assert(sizeof(((larodTensorPitches*)0)->pitches) == 12 * sizeof(size_t), "larodTensorPitches.pitches");
_Static_assert(_Generic(((larodTensorDims*)0)->len, size_t: 1, default: 0) &&
                   _Generic(((larodTensorPitches*)0)->len, size_t: 1, default: 0),
               "len fields are size_t");

/* ---- Run time: all 72 resolve ----------------------------------------- */

typedef void (*any_fn)(void);
#define FN(f) (any_fn) f

int main(void) {
  /* Casting to a common function pointer type keeps every symbol referenced,
   * so linking fails if liblarod lacks one. */
  const any_fn all[] = {
      FN(larodClearError),          FN(larodConnect),
      FN(larodDisconnect),          FN(larodGetNumSessions),
      FN(larodGetDevice),           FN(larodGetDeviceName),
      FN(larodGetDeviceInstance),   FN(larodListDevices),
      FN(larodLoadModel),           FN(larodLoadModelAsync),
      FN(larodGetModel),            FN(larodGetModels),
      FN(larodDestroyModel),        FN(larodDestroyModels),
      FN(larodDeleteModel),         FN(larodGetModelId),
      FN(larodGetModelDevice),      FN(larodGetModelSize),
      FN(larodGetModelName),        FN(larodGetModelAccess),
      FN(larodGetModelNumInputs),   FN(larodGetModelNumOutputs),
      FN(larodGetModelInputByteSizes), FN(larodGetModelOutputByteSizes),
      FN(larodCreateModelInputs),   FN(larodCreateModelOutputs),
      FN(larodAllocModelInputs),    FN(larodAllocModelOutputs),
      FN(larodCreateTensors),       FN(larodDestroyTensors),
      FN(larodSetTensorDims),       FN(larodBuildTensorDims),
      FN(larodGetTensorDims),       FN(larodSetTensorPitches),
      FN(larodBuildTensorPitches),  FN(larodGetTensorPitches),
      FN(larodSetTensorDataType),   FN(larodGetTensorDataType),
      FN(larodSetTensorLayout),     FN(larodGetTensorLayout),
      FN(larodSetTensorFd),         FN(larodGetTensorFd),
      FN(larodSetTensorFdSize),     FN(larodGetTensorFdSize),
      FN(larodSetTensorFdOffset),   FN(larodGetTensorFdOffset),
      FN(larodTrackTensor),         FN(larodConvertVmemFdToDmabuf),
      FN(larodSetTensorFdProps),    FN(larodGetTensorFdProps),
      FN(larodGetTensorName),       FN(larodGetTensorByteSize),
      FN(larodCreateMap),           FN(larodDestroyMap),
      FN(larodMapSetStr),           FN(larodMapSetInt),
      FN(larodMapSetIntArr2),       FN(larodMapSetIntArr4),
      FN(larodMapGetStr),           FN(larodMapGetInt),
      FN(larodMapGetIntArr2),       FN(larodMapGetIntArr4),
      FN(larodCreateJobRequest),    FN(larodDestroyJobRequest),
      FN(larodSetJobRequestModel),  FN(larodSetJobRequestInputs),
      FN(larodSetJobRequestOutputs), FN(larodSetJobRequestPriority),
      FN(larodSetJobRequestParams), FN(larodRunJob),
      FN(larodRunJobAsync),         FN(larodExportModel),
  };
  const size_t n = sizeof(all) / sizeof(all[0]);
  if (n != 72) {
    fprintf(stderr, "expected 72 functions, listed %zu\n", n);
    return 1;
  }
  for (size_t i = 0; i < n; ++i) {
    if (!all[i]) {
      fprintf(stderr, "function %zu did not resolve\n", i);
      return 1;
    }
  }
  printf("72 Larod functions declared as documented and resolved; API %d.%d.%d\n", LAROD_VERSION_MAJOR,
         LAROD_VERSION_MINOR, LAROD_VERSION_PATCH);
  return 0;
}
