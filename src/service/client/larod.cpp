// liblarod: the Larod 3 C API over ospreyd's socket (see src/service/protocol.h).
//
// Threads: replies are read by whichever thread holds the connection's
// reading role. A synchronous call sends its request and, when no other
// thread is reading, reads the socket itself until its reply arrives (no
// hand-off between threads); otherwise it sleeps until the reader hands the
// reply over. A background reader takes the role only while asynchronous
// requests are outstanding. Callbacks of asynchronous calls run on a separate
// callback thread, so a callback may itself make synchronous calls on the
// same connection. When the daemon goes away, every waiting call and pending
// callback gets LAROD_ERROR_CONNECTION; nothing waits on a dead daemon.
#include "larod.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <new>
#include <string>
#include <thread>
#include <vector>

#include "service/protocol.h"

using namespace osprey::service;

// The wire values are the header's enum values.
constexpr int I(int v) {
  return v;
}
static_assert(I(LAROD_ERROR_JOB) == I(wire::kErrJob) && I(LAROD_ERROR_ALLOC) == I(wire::kErrAlloc) &&
              I(LAROD_ERROR_CONNECTION) == I(wire::kErrConnection) &&
              I(LAROD_ERROR_TENSOR_MISMATCH) == I(wire::kErrTensorMismatch) &&
              I(LAROD_ERROR_VERSION_MISMATCH) == I(wire::kErrVersionMismatch) &&
              I(LAROD_ERROR_FD) == I(wire::kErrFd) &&
              I(LAROD_ERROR_MODEL_NOT_FOUND) == I(wire::kErrModelNotFound) &&
              I(LAROD_ERROR_INVALID_ACCESS) == I(wire::kErrInvalidAccess) &&
              I(LAROD_ERROR_LOAD_MODEL) == I(wire::kErrLoadModel) &&
              I(LAROD_ERROR_INVALID_CHIP_ID) == I(wire::kErrInvalidChipId));
static_assert(I(LAROD_TENSOR_DATA_TYPE_FLOAT64) == I(wire::kTypeFloat64) &&
              I(LAROD_TENSOR_DATA_TYPE_MAX) == I(wire::kTypeMax) &&
              I(LAROD_TENSOR_DATA_TYPE_UINT8) == I(wire::kTypeUInt8));
static_assert(I(LAROD_TENSOR_LAYOUT_420SP) == I(wire::kLayout420SP) &&
              I(LAROD_TENSOR_LAYOUT_MAX) == I(wire::kLayoutMax));
static_assert(I(LAROD_ACCESS_PUBLIC) == I(wire::kAccessPublic) &&
              I(LAROD_ACCESS_USER_PROTECTED) == I(wire::kAccessUserProtected));
static_assert(LAROD_FD_PROP_DMABUF == wire::kPropDmabuf && LAROD_FD_PROP_MAP == wire::kPropMap);

// ---- Handles -------------------------------------------------------------

struct larodDevice {
  std::string name;
  uint32_t instance = 0;
};

struct larodModel {
  uint64_t id = LAROD_INVALID_MODEL_ID;
  std::string name;
  const larodDevice* device = nullptr;
  larodAccess access = LAROD_ACCESS_INVALID;
  size_t size = 0;
  std::vector<TensorInfo> inputs;
  std::vector<TensorInfo> outputs;
};

struct larodMap {
  ParamMap map;
};

struct larodTensor {
  larodTensorDims dims{};
  larodTensorPitches pitches{};
  larodTensorDataType data_type = LAROD_TENSOR_DATA_TYPE_UNSPECIFIED;
  larodTensorLayout layout = LAROD_TENSOR_LAYOUT_UNSPECIFIED;
  int fd = LAROD_INVALID_FD;
  size_t fd_size = 0;
  int64_t offset = 0;
  uint32_t props = LAROD_FD_TYPE_DISK;
  std::string name;
  size_t model_byte_size = 0;  // from the model description, 0 when unknown
  // Memory the service knows about: allocated for this tensor (owned_fd,
  // closed by larodDestroyTensors) and/or tracked (the fd the app had set
  // when larodTrackTensor ran). Buffer ids are per connection.
  uint64_t owned_serial = 0;
  uint64_t owned_id = 0;
  int owned_fd = -1;
  uint64_t tracked_serial = 0;
  uint64_t tracked_id = 0;
  int tracked_fd = -1;
};

struct larodJobRequest {
  uint64_t model_id = LAROD_INVALID_MODEL_ID;
  size_t model_inputs = 0;
  size_t model_outputs = 0;
  std::vector<larodTensor*> inputs;
  std::vector<larodTensor*> outputs;
  ParamMap params;
  uint8_t priority = 50;
};

namespace {

// ---- Errors --------------------------------------------------------------

void set_error(larodError** error, int code, const std::string& msg) {
  if (!error || *error) return;  // never overwrite (or leak) an earlier error
  auto* e = static_cast<larodError*>(std::malloc(sizeof(larodError)));
  if (!e) return;
  char* text = strdup(msg.c_str());
  e->code = static_cast<larodErrorCode>(code);
  e->msg = text ? text : "out of memory";
  if (!text) e->code = LAROD_ERROR_ALLOC;
  *error = e;
}

larodError* make_error(int code, const std::string& msg) {
  larodError* e = nullptr;
  set_error(&e, code, msg);
  return e;
}

bool invalid(larodError** error, const std::string& msg) {
  set_error(error, EINVAL, msg);
  return false;
}

// ---- Devices: interned for the life of the process -------------------------

const larodDevice* intern_device(const std::string& name, uint32_t instance) {
  static std::mutex mu;
  static std::deque<larodDevice> devices;  // deque: stable addresses
  std::lock_guard<std::mutex> lock(mu);
  for (const auto& d : devices) {
    if (d.name == name && d.instance == instance) return &d;
  }
  devices.push_back({name, instance});
  return &devices.back();
}

larodModel* make_model(const ModelInfo& info) {
  auto* m = new (std::nothrow) larodModel();
  if (!m) return nullptr;
  m->id = info.id;
  m->name = info.name;
  m->device = intern_device(info.device, info.instance);
  m->access = static_cast<larodAccess>(info.access);
  m->size = static_cast<size_t>(info.size);
  m->inputs = info.inputs;
  m->outputs = info.outputs;
  return m;
}

std::atomic<uint64_t> g_next_conn_serial{1};

}  // namespace

// ---- Connection ----------------------------------------------------------

struct larodConnection {
  struct Pending {
    enum Kind { kSync, kAsyncJob, kAsyncLoad } kind = kSync;
    uint16_t type = 0;
    // kSync
    bool done = false;
    Message reply;
    std::string failure;  // set when the connection broke instead
    // async
    larodRunJobCallback job_cb = nullptr;
    larodLoadModelCallback load_cb = nullptr;
    void* user = nullptr;
  };

  uint64_t serial = g_next_conn_serial++;
  UniqueFd sock;
  std::string path;
  std::mutex send_mu;
  std::mutex mu;  // pending, next_id, broken, reading, owned_fds
  // Signalled when a sync request is done, the reading role is free, or the
  // connection broke or stops.
  std::condition_variable cv;
  bool reading = false;  // a thread is receiving on the socket
  bool stop = false;
  std::map<uint64_t, Pending*> pending;
  std::map<uint64_t, std::unique_ptr<Pending>> async_pending;
  uint64_t next_id = 1;
  bool broken = false;
  std::string broken_reason;
  std::map<int, uint64_t> owned_fds;  // fds the service allocated on this connection -> buffer id
  std::vector<const larodDevice*> devices;
  std::thread reader;

  std::mutex cb_mu;
  std::condition_variable cb_cv;
  std::deque<std::function<void()>> cb_queue;
  bool cb_stop = false;
  bool delete_on_cb_exit = false;
  std::thread cb_thread;

  void start() {
    reader = std::thread([this] { background_reader(); });
    cb_thread = std::thread([this] { callback_loop(); });
  }

  void post(std::function<void()> fn) {
    {
      std::lock_guard<std::mutex> lock(cb_mu);
      cb_queue.push_back(std::move(fn));
    }
    cb_cv.notify_one();
  }

  void callback_loop() {
    for (;;) {
      std::function<void()> fn;
      {
        std::unique_lock<std::mutex> lock(cb_mu);
        cb_cv.wait(lock, [this] { return cb_stop || !cb_queue.empty(); });
        if (cb_queue.empty()) break;  // stopping and drained
        fn = std::move(cb_queue.front());
        cb_queue.pop_front();
      }
      fn();
    }
    bool self_delete;
    {
      std::lock_guard<std::mutex> lock(cb_mu);
      self_delete = delete_on_cb_exit;
    }
    if (self_delete) {
      cb_thread.detach();
      delete this;
    }
  }

  // Completes an asynchronous request (on the callback thread).
  void complete_async(std::unique_ptr<Pending> p, Message* reply, const std::string& failure) {
    std::shared_ptr<Pending> shared(std::move(p));
    std::shared_ptr<Message> msg;
    if (reply) msg = std::make_shared<Message>(std::move(*reply));
    post([shared, msg, failure] {
      Pending& p = *shared;
      int32_t status = LAROD_ERROR_CONNECTION;
      std::string text = failure;
      ModelInfo info;
      if (msg) {
        try {
          Reader r = msg->reader();
          status = r.i32();
          text = r.str();
          if (status == 0 && p.kind == Pending::kAsyncLoad) info = read_model_info(r);
          if (status == 0) r.expect_end();
        } catch (const ProtocolError& e) {
          status = LAROD_ERROR_CONNECTION;
          text = std::string("malformed reply from ospreyd: ") + e.what();
        }
      }
      larodError* err = status == 0 ? nullptr : make_error(status, text);
      if (p.kind == Pending::kAsyncJob) {
        if (p.job_cb) p.job_cb(p.user, err);
      } else {
        larodModel* model = status == 0 ? make_model(info) : nullptr;
        if (status == 0 && !model) err = make_error(LAROD_ERROR_ALLOC, "out of memory");
        if (p.load_cb) {
          p.load_cb(model, p.user, err);
        } else {
          delete model;
        }
      }
      larodClearError(&err);
    });
  }

  void fail_all(const std::string& reason) {
    std::map<uint64_t, std::unique_ptr<Pending>> async;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (!broken) {
        broken = true;
        broken_reason = reason;
      }
      for (auto& [id, p] : pending) {
        p->failure = broken_reason;
        p->done = true;
      }
      pending.clear();
      async.swap(async_pending);
    }
    cv.notify_all();
    for (auto& [id, p] : async) complete_async(std::move(p), nullptr, reason);
  }

  // Receives one message and hands it to whoever waits for it. Only the
  // thread holding the reading role calls this. Returns false once broken.
  bool read_one() {
    Message m;
    std::string error;
    RecvResult r = recv_message(sock.get(), m, error);
    if (r == RecvResult::kEof) {
      fail_all("ospreyd closed the connection (it stopped or restarted)");
      return false;
    }
    if (r != RecvResult::kOk) {
      fail_all("connection to ospreyd failed: " + error);
      return false;
    }
    std::unique_ptr<Pending> async;
    {
      std::lock_guard<std::mutex> lock(mu);
      auto it = pending.find(m.header.id);
      if (it != pending.end()) {
        Pending* p = it->second;
        pending.erase(it);
        if (m.header.type != (p->type | kReplyBit)) {
          p->failure = "ospreyd answered with an unexpected message type";
        } else {
          p->reply = std::move(m);
        }
        p->done = true;
        cv.notify_all();
        return true;
      }
      auto at = async_pending.find(m.header.id);
      if (at != async_pending.end()) {
        async = std::move(at->second);
        async_pending.erase(at);
      }
    }
    if (async) complete_async(std::move(async), &m, "");
    // Replies nobody waits for are dropped (their fds close with m).
    return true;
  }

  // Reads while asynchronous requests are outstanding and no synchronous
  // caller is reading; a synchronous caller reads its own reply (no thread
  // hand-off) whenever the socket is free.
  void background_reader() {
    for (;;) {
      {
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [this] { return stop || broken || (!reading && !async_pending.empty()); });
        if (stop || broken) return;
        reading = true;
      }
      bool ok = read_one();
      {
        std::lock_guard<std::mutex> lock(mu);
        reading = false;
      }
      cv.notify_all();
      if (!ok) return;
    }
  }

  // Marks the connection broken when a send shows the daemon is gone.
  std::string send_failed(int err) {
    if (err == EMSGSIZE) return "the request is too large for the protocol";
    std::string reason = err == EPIPE || err == ECONNRESET || err == ENOTCONN
                             ? "ospreyd closed the connection (it stopped or restarted)"
                             : std::string("sending to ospreyd failed: ") + std::strerror(err);
    fail_all(reason);
    return reason;
  }

  bool send_request(Msg type, uint64_t id, const Writer& w, const std::vector<int>& fds,
                    std::string& failure) {
    int err;
    {
      std::lock_guard<std::mutex> lock(send_mu);
      err = send_message(sock.get(), static_cast<uint16_t>(type), id, w.bytes(), fds.data(), fds.size());
    }
    if (err == 0) return true;
    failure = send_failed(err);
    return false;
  }

  // A synchronous request. On success `reader` is positioned after the status.
  bool call(Msg type, const Writer& w, const std::vector<int>& fds, Message& reply, larodError** error) {
    Pending p;
    p.type = static_cast<uint16_t>(type);
    uint64_t id;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (broken) {
        set_error(error, LAROD_ERROR_CONNECTION, broken_reason);
        return false;
      }
      id = next_id++;
      pending[id] = &p;
    }
    std::string failure;
    if (!send_request(type, id, w, fds, failure)) {
      std::lock_guard<std::mutex> lock(mu);
      pending.erase(id);
      set_error(error, LAROD_ERROR_CONNECTION, failure);
      return false;
    }
    {
      std::unique_lock<std::mutex> lock(mu);
      while (!p.done) {
        if (!reading && !broken) {
          // The socket is free: read until our reply arrives.
          reading = true;
          lock.unlock();
          read_one();
          lock.lock();
          reading = false;
          cv.notify_all();
          continue;
        }
        cv.wait(lock);
      }
    }
    if (!p.failure.empty()) {
      set_error(error, LAROD_ERROR_CONNECTION, p.failure);
      return false;
    }
    reply = std::move(p.reply);
    return true;
  }

  bool call_async(Msg type, const Writer& w, const std::vector<int>& fds, std::unique_ptr<Pending> p,
                  larodError** error) {
    p->type = static_cast<uint16_t>(type);
    uint64_t id;
    {
      std::lock_guard<std::mutex> lock(mu);
      if (broken) {
        set_error(error, LAROD_ERROR_CONNECTION, broken_reason);
        return false;
      }
      id = next_id++;
      async_pending[id] = std::move(p);
    }
    cv.notify_all();  // the background reader takes over when the socket is free
    std::string failure;
    if (!send_request(type, id, w, fds, failure)) {
      std::lock_guard<std::mutex> lock(mu);
      // The reader may have failed it already (then its callback is queued).
      if (async_pending.erase(id) == 0) return true;
      set_error(error, LAROD_ERROR_CONNECTION, failure);
      return false;
    }
    return true;
  }
};

namespace {

// Reads the status prefix of a reply; returns false (and sets error) on failure.
bool check_status(Reader& r, larodError** error) {
  try {
    int32_t status = r.i32();
    std::string text = r.str();
    if (status != 0) {
      set_error(error, status, text);
      return false;
    }
    return true;
  } catch (const ProtocolError& e) {
    set_error(error, LAROD_ERROR_CONNECTION, std::string("malformed reply from ospreyd: ") + e.what());
    return false;
  }
}

// Runs a synchronous request and parses its body with `parse`.
bool request(larodConnection* conn, Msg type, const Writer& w, const std::vector<int>& fds,
             larodError** error, const std::function<void(Reader&, Message&)>& parse = {}) {
  if (!conn) return invalid(error, "conn is NULL");
  Message reply;
  if (!conn->call(type, w, fds, reply, error)) return false;
  Reader r = reply.reader();
  if (!check_status(r, error)) return false;
  try {
    if (parse) parse(r, reply);
    r.expect_end();
  } catch (const ProtocolError& e) {
    set_error(error, LAROD_ERROR_CONNECTION, std::string("malformed reply from ospreyd: ") + e.what());
    return false;
  }
  return true;
}

void destroy_connection(larodConnection* c) {
  // Pending requests complete with CONNECTION errors, then the socket closes.
  c->fail_all("the connection was closed (larodDisconnect)");
  {
    std::lock_guard<std::mutex> lock(c->mu);
    c->stop = true;
  }
  c->cv.notify_all();
  ::shutdown(c->sock.get(), SHUT_RDWR);
  if (c->reader.joinable()) c->reader.join();
  bool from_callback = std::this_thread::get_id() == c->cb_thread.get_id();
  {
    std::lock_guard<std::mutex> lock(c->cb_mu);
    c->cb_stop = true;
    c->delete_on_cb_exit = from_callback;
  }
  c->cb_cv.notify_all();
  if (from_callback) return;  // the callback thread deletes the connection when it returns
  if (c->cb_thread.joinable()) c->cb_thread.join();
  delete c;
}

larodTensor* new_tensor() {
  return new (std::nothrow) larodTensor();
}

larodTensor** tensors_from_infos(const std::vector<TensorInfo>& infos, size_t* numTensors,
                                 larodError** error) {
  const size_t n = infos.size();
  auto** arr = static_cast<larodTensor**>(std::calloc(n ? n : 1, sizeof(larodTensor*)));
  if (!arr) {
    set_error(error, LAROD_ERROR_ALLOC, "out of memory");
    return nullptr;
  }
  for (size_t i = 0; i < n; ++i) {
    larodTensor* t = new_tensor();
    if (!t) {
      for (size_t k = 0; k < i; ++k) delete arr[k];
      std::free(arr);
      set_error(error, LAROD_ERROR_ALLOC, "out of memory");
      return nullptr;
    }
    const TensorInfo& info = infos[i];
    t->name = info.name;
    t->data_type = static_cast<larodTensorDataType>(info.data_type);
    t->layout = static_cast<larodTensorLayout>(info.layout);
    t->dims.len = std::min<size_t>(info.dims.size(), LAROD_TENSOR_MAX_LEN);
    for (size_t k = 0; k < t->dims.len; ++k) t->dims.dims[k] = static_cast<size_t>(info.dims[k]);
    t->pitches.len = std::min<size_t>(info.pitches.size(), LAROD_TENSOR_MAX_LEN);
    for (size_t k = 0; k < t->pitches.len; ++k) t->pitches.pitches[k] = static_cast<size_t>(info.pitches[k]);
    t->model_byte_size = static_cast<size_t>(info.byte_size);
    arr[i] = t;
  }
  if (numTensors) *numTensors = n;
  return arr;
}

larodTensor** alloc_tensors(larodConnection* conn, const larodModel* model, uint32_t props,
                            size_t* numTensors, larodMap* params, bool outputs, larodError** error) {
  if (!conn) {
    invalid(error, "conn is NULL");
    return nullptr;
  }
  if (!model) {
    invalid(error, "model is NULL");
    return nullptr;
  }
  if (props & ~wire::kPropAll) {
    invalid(error, "unknown fd property flags");
    return nullptr;
  }
  Writer w;
  w.u64(model->id);
  w.u8(outputs ? 1 : 0);
  w.u32(props);
  write_map(w, params ? params->map : ParamMap{});
  struct Item {
    uint64_t id, size;
    uint32_t props;
  };
  std::vector<Item> items;
  std::vector<UniqueFd> fds;
  bool ok = request(conn, Msg::kAllocTensors, w, {}, error, [&](Reader& r, Message& reply) {
    uint32_t n = r.count(kMaxTensors, 20);
    for (uint32_t i = 0; i < n; ++i) {
      Item it{r.u64(), r.u64(), r.u32()};
      items.push_back(it);
    }
    if (reply.fds.size() != n) throw ProtocolError("allocation reply carries the wrong number of fds");
    fds = std::move(reply.fds);
  });
  if (!ok) return nullptr;
  const auto& infos = outputs ? model->outputs : model->inputs;
  auto release = [&] {
    Writer rw;
    std::vector<uint64_t> ids;
    for (const auto& it : items) ids.push_back(it.id);
    rw.u64s(ids);
    request(conn, Msg::kReleaseBuffers, rw, {}, nullptr);
  };
  if (items.size() != infos.size()) {
    release();
    set_error(error, LAROD_ERROR_ALLOC, "ospreyd allocated a different number of tensors than the model has");
    return nullptr;
  }
  size_t n = 0;
  larodTensor** arr = tensors_from_infos(infos, &n, error);
  if (!arr) {
    release();
    return nullptr;
  }
  std::lock_guard<std::mutex> lock(conn->mu);
  for (size_t i = 0; i < n; ++i) {
    larodTensor* t = arr[i];
    t->fd = fds[i].release();
    t->owned_fd = t->fd;
    t->owned_id = items[i].id;
    t->owned_serial = conn->serial;
    t->fd_size = static_cast<size_t>(items[i].size);
    t->offset = 0;
    t->props = items[i].props;
    conn->owned_fds[t->fd] = items[i].id;
  }
  if (numTensors) *numTensors = n;
  return arr;
}

// Describes a job tensor for the wire; fds to attach are collected in `fds`.
bool tensor_ref(larodConnection* conn, const larodTensor* t, const char* side, size_t index,
                std::vector<int>& fds, TensorRef& ref, larodError** error) {
  ref.offset = t->offset;
  ref.fd_size = t->fd_size;
  ref.props = t->props;
  ref.data_type = t->data_type;
  ref.layout = t->layout;
  ref.dims.assign(t->dims.dims, t->dims.dims + t->dims.len);
  ref.pitches.assign(t->pitches.pitches, t->pitches.pitches + t->pitches.len);
  if (t->tracked_id && t->tracked_serial == conn->serial && t->fd == t->tracked_fd) {
    ref.kind = TensorRef::kBuffer;
    ref.buffer_id = t->tracked_id;
    return true;
  }
  if (t->owned_id && t->owned_serial == conn->serial && t->fd == t->owned_fd) {
    ref.kind = TensorRef::kBuffer;
    ref.buffer_id = t->owned_id;
    return true;
  }
  if (t->fd < 0) {
    set_error(error, LAROD_ERROR_FD,
              std::string(side) + " tensor " + std::to_string(index) +
                  " has no file descriptor (set one with larodSetTensorFd or allocate with larodAllocModel" +
                  (std::strcmp(side, "input") == 0 ? "Inputs)" : "Outputs)"));
    return false;
  }
  {
    std::lock_guard<std::mutex> lock(conn->mu);
    auto it = conn->owned_fds.find(t->fd);
    if (it != conn->owned_fds.end()) {
      ref.kind = TensorRef::kBuffer;
      ref.buffer_id = it->second;
      return true;
    }
  }
  ref.kind = TensorRef::kFd;
  for (size_t i = 0; i < fds.size(); ++i) {
    if (fds[i] == t->fd) {
      ref.fd_index = static_cast<uint32_t>(i);
      return true;
    }
  }
  if (fds.size() >= kMaxFds) {
    set_error(error, LAROD_ERROR_FD, "the job uses more than " + std::to_string(kMaxFds) + " distinct fds");
    return false;
  }
  ref.fd_index = static_cast<uint32_t>(fds.size());
  fds.push_back(t->fd);
  return true;
}

bool job_message(larodConnection* conn, const larodJobRequest* req, Writer& w, std::vector<int>& fds,
                 larodError** error) {
  if (!conn) return invalid(error, "conn is NULL");
  if (!req) return invalid(error, "jobReq is NULL");
  w.u64(req->model_id);
  w.u8(req->priority);
  write_map(w, req->params);
  for (int side = 0; side < 2; ++side) {
    const auto& tensors = side == 0 ? req->inputs : req->outputs;
    w.u32(static_cast<uint32_t>(tensors.size()));
    for (size_t i = 0; i < tensors.size(); ++i) {
      TensorRef ref;
      if (!tensor_ref(conn, tensors[i], side == 0 ? "input" : "output", i, fds, ref, error)) return false;
      write_tensor_ref(w, ref);
    }
  }
  return true;
}

bool check_tensor_list(larodTensor** tensors, size_t n, size_t expected, const char* side,
                       larodError** error) {
  if (n != expected) {
    set_error(error, LAROD_ERROR_TENSOR_MISMATCH,
              "the model has " + std::to_string(expected) + " " + side + "s but " + std::to_string(n) +
                  " were given");
    return false;
  }
  if (n > kMaxTensors) return invalid(error, std::string("too many ") + side + " tensors");
  if (n && !tensors) return invalid(error, std::string(side) + " tensor array is NULL");
  for (size_t i = 0; i < n; ++i) {
    if (!tensors[i]) return invalid(error, std::string(side) + " tensor " + std::to_string(i) + " is NULL");
    const larodTensor* t = tensors[i];
    if (t->dims.len && t->pitches.len && t->dims.len != t->pitches.len) {
      return invalid(error, std::string(side) + " tensor " + std::to_string(i) +
                                ": dims and pitches have different lengths");
    }
  }
  return true;
}

bool map_key_ok(larodMap* map, const char* key, larodError** error) {
  if (!map) return invalid(error, "map is NULL");
  if (!key || !*key) return invalid(error, "key is NULL or empty");
  if (std::strlen(key) > kMaxString) return invalid(error, "key is too long");
  return true;
}

bool map_set(larodMap* map, const char* key, MapValue v, larodError** error) {
  if (!map_key_ok(map, key, error)) return false;
  auto it = map->map.find(key);
  if (it == map->map.end() && map->map.size() >= kMaxMapEntries) {
    set_error(error, EINVAL, "the map is full (" + std::to_string(kMaxMapEntries) + " keys)");
    return false;
  }
  try {
    map->map[key] = std::move(v);
  } catch (const std::bad_alloc&) {
    set_error(error, LAROD_ERROR_ALLOC, "out of memory");
    return false;
  }
  return true;
}

const MapValue* map_get(larodMap* map, const char* key, MapValue::Type type, larodError** error) {
  if (!map_key_ok(map, key, error)) return nullptr;
  auto it = map->map.find(key);
  if (it == map->map.end()) {
    set_error(error, EINVAL, std::string("the map has no key '") + key + "'");
    return nullptr;
  }
  if (it->second.type != type) {
    static const char* const names[] = {"", "a string", "an int", "an int pair", "an int quad"};
    set_error(error, EINVAL,
              std::string("key '") + key + "' holds " + names[it->second.type] + ", not " + names[type]);
    return nullptr;
  }
  return &it->second;
}

}  // namespace

// ---- C API ---------------------------------------------------------------

extern "C" {

void larodClearError(larodError** error) {
  if (!error || !*error) return;
  std::free(const_cast<char*>((*error)->msg));
  std::free(*error);
  *error = nullptr;
}

bool larodConnect(larodConnection** conn, larodError** error) {
  if (!conn) return invalid(error, "conn is NULL");
  *conn = nullptr;
  std::unique_ptr<larodConnection> c;
  try {
    c = std::make_unique<larodConnection>();
  } catch (const std::bad_alloc&) {
    set_error(error, LAROD_ERROR_ALLOC, "out of memory");
    return false;
  }
  c->path = default_socket_path();
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (c->path.size() >= sizeof(addr.sun_path)) {
    set_error(error, LAROD_ERROR_CONNECTION, "socket path '" + c->path + "' is too long");
    return false;
  }
  std::memcpy(addr.sun_path, c->path.c_str(), c->path.size() + 1);
  c->sock.reset(::socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0));
  if (!c->sock) {
    set_error(error, LAROD_ERROR_CONNECTION, std::string("socket: ") + std::strerror(errno));
    return false;
  }
  int rc;
  do {
    rc = ::connect(c->sock.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    set_error(error, LAROD_ERROR_CONNECTION,
              "cannot connect to ospreyd at " + c->path + ": " + std::strerror(errno) +
                  " (is ospreyd running? OSPREY_SOCKET selects the socket)");
    return false;
  }
  larodConnection* raw = c.release();
  raw->start();
  Writer hello;
  hello.str("liblarod " + std::to_string(LAROD_VERSION_MAJOR) + "." + std::to_string(LAROD_VERSION_MINOR));
  bool ok = request(raw, Msg::kHello, hello, {}, error, [](Reader& r, Message&) {
    r.u64();
    r.str();
  });
  if (ok) {
    ok = request(raw, Msg::kListDevices, Writer(), {}, error, [&](Reader& r, Message&) {
      uint32_t n = r.count(kMaxListItems, 8);
      for (uint32_t i = 0; i < n; ++i) {
        std::string name = r.str();
        uint32_t instance = r.u32();
        raw->devices.push_back(intern_device(name, instance));
      }
    });
  }
  if (!ok) {
    destroy_connection(raw);
    return false;
  }
  *conn = raw;
  return true;
}

bool larodDisconnect(larodConnection** conn, larodError** error) {
  if (!conn || !*conn) return invalid(error, "conn is NULL");
  destroy_connection(*conn);
  *conn = nullptr;
  return true;
}

bool larodGetNumSessions(larodConnection* conn, uint64_t* numSessions, larodError** error) {
  if (!numSessions) return invalid(error, "numSessions is NULL");
  return request(conn, Msg::kNumSessions, Writer(), {}, error,
                 [&](Reader& r, Message&) { *numSessions = r.u64(); });
}

const larodDevice* larodGetDevice(const larodConnection* conn, const char* name, const uint32_t instance,
                                  larodError** error) {
  if (!conn) {
    invalid(error, "conn is NULL");
    return nullptr;
  }
  if (!name) {
    invalid(error, "name is NULL");
    return nullptr;
  }
  std::string known;
  for (const larodDevice* d : conn->devices) {
    if (d->name == name && d->instance == instance) return d;
    if (!known.empty()) known += ", ";
    known += d->name;
    known += ":";
    known += std::to_string(d->instance);
  }
  set_error(error, LAROD_ERROR_INVALID_CHIP_ID,
            std::string("no device '") + name + "' instance " + std::to_string(instance) +
                " (devices: " + known + ")");
  return nullptr;
}

const char* larodGetDeviceName(const larodDevice* dev, larodError** error) {
  if (!dev) {
    invalid(error, "dev is NULL");
    return nullptr;
  }
  return dev->name.c_str();
}

bool larodGetDeviceInstance(const larodDevice* dev, uint32_t* instance, larodError** error) {
  if (!dev) return invalid(error, "dev is NULL");
  if (!instance) return invalid(error, "instance is NULL");
  *instance = dev->instance;
  return true;
}

const larodDevice** larodListDevices(larodConnection* conn, size_t* numDevices, larodError** error) {
  if (!conn) {
    invalid(error, "conn is NULL");
    return nullptr;
  }
  if (!numDevices) {
    invalid(error, "numDevices is NULL");
    return nullptr;
  }
  const size_t n = conn->devices.size();
  auto** arr = static_cast<const larodDevice**>(std::calloc(n ? n : 1, sizeof(larodDevice*)));
  if (!arr) {
    set_error(error, LAROD_ERROR_ALLOC, "out of memory");
    return nullptr;
  }
  for (size_t i = 0; i < n; ++i) arr[i] = conn->devices[i];
  *numDevices = n;
  return arr;
}

// ---- Models ----------------------------------------------------------------

namespace {

bool load_message(larodConnection* conn, int fd, const larodDevice* dev, larodAccess access, const char* name,
                  const larodMap* params, Writer& w, std::vector<int>& fds, larodError** error) {
  if (!conn) return invalid(error, "conn is NULL");
  if (!dev) return invalid(error, "dev is NULL");
  if (access != LAROD_ACCESS_PRIVATE && access != LAROD_ACCESS_PUBLIC &&
      access != LAROD_ACCESS_USER_PROTECTED) {
    set_error(error, LAROD_ERROR_INVALID_ACCESS,
              "invalid access mode " + std::to_string(static_cast<int>(access)));
    return false;
  }
  if (name && std::strlen(name) > 256) return invalid(error, "model name is longer than 256 bytes");
  if (fd >= 0) {
    if (::fcntl(fd, F_GETFD) < 0) {
      set_error(error, LAROD_ERROR_FD, "model fd " + std::to_string(fd) + " is not an open file descriptor");
      return false;
    }
    fds.push_back(fd);
  }
  w.u8(fd >= 0 ? 1 : 0);
  w.str(dev->name);
  w.u32(dev->instance);
  w.u32(static_cast<uint32_t>(access));
  w.str(name ? name : "");
  write_map(w, params ? params->map : ParamMap{});
  return true;
}

}  // namespace

larodModel* larodLoadModel(larodConnection* conn, const int fd, const larodDevice* dev,
                           const larodAccess access, const char* name, const larodMap* params,
                           larodError** error) {
  Writer w;
  std::vector<int> fds;
  if (!load_message(conn, fd, dev, access, name, params, w, fds, error)) return nullptr;
  ModelInfo info;
  if (!request(conn, Msg::kLoadModel, w, fds, error,
               [&](Reader& r, Message&) { info = read_model_info(r); })) {
    return nullptr;
  }
  larodModel* m = make_model(info);
  if (!m) set_error(error, LAROD_ERROR_ALLOC, "out of memory");
  return m;
}

bool larodLoadModelAsync(larodConnection* conn, const int inFd, const larodDevice* dev,
                         const larodAccess access, const char* name, const larodMap* params,
                         larodLoadModelCallback callback, void* userData, larodError** error) {
  Writer w;
  std::vector<int> fds;
  if (!load_message(conn, inFd, dev, access, name, params, w, fds, error)) return false;
  auto p = std::make_unique<larodConnection::Pending>();
  p->kind = larodConnection::Pending::kAsyncLoad;
  p->load_cb = callback;
  p->user = userData;
  return conn->call_async(Msg::kLoadModel, w, fds, std::move(p), error);
}

larodModel* larodGetModel(larodConnection* conn, const uint64_t modelId, larodError** error) {
  Writer w;
  w.u64(modelId);
  ModelInfo info;
  if (!request(conn, Msg::kGetModel, w, {}, error, [&](Reader& r, Message&) { info = read_model_info(r); })) {
    return nullptr;
  }
  larodModel* m = make_model(info);
  if (!m) set_error(error, LAROD_ERROR_ALLOC, "out of memory");
  return m;
}

larodModel** larodGetModels(larodConnection* conn, size_t* numModels, larodError** error) {
  if (!numModels) {
    invalid(error, "numModels is NULL");
    return nullptr;
  }
  std::vector<ModelInfo> infos;
  bool ok = request(conn, Msg::kGetModels, Writer(), {}, error, [&](Reader& r, Message&) {
    uint32_t n = r.count(kMaxListItems, 40);
    for (uint32_t i = 0; i < n; ++i) infos.push_back(read_model_info(r));
  });
  if (!ok) return nullptr;
  auto** arr = static_cast<larodModel**>(std::calloc(infos.size() ? infos.size() : 1, sizeof(larodModel*)));
  if (!arr) {
    set_error(error, LAROD_ERROR_ALLOC, "out of memory");
    return nullptr;
  }
  for (size_t i = 0; i < infos.size(); ++i) {
    arr[i] = make_model(infos[i]);
    if (!arr[i]) {
      larodDestroyModels(&arr, i);
      set_error(error, LAROD_ERROR_ALLOC, "out of memory");
      return nullptr;
    }
  }
  *numModels = infos.size();
  return arr;
}

void larodDestroyModel(larodModel** model) {
  if (!model || !*model) return;
  delete *model;
  *model = nullptr;
}

void larodDestroyModels(larodModel*** models, size_t numModels) {
  if (!models || !*models) return;
  for (size_t i = 0; i < numModels; ++i) delete (*models)[i];
  std::free(*models);
  *models = nullptr;
}

bool larodDeleteModel(larodConnection* conn, larodModel* model, larodError** error) {
  if (!model) return invalid(error, "model is NULL");
  Writer w;
  w.u64(model->id);
  return request(conn, Msg::kDeleteModel, w, {}, error);
}

uint64_t larodGetModelId(const larodModel* model, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return LAROD_INVALID_MODEL_ID;
  }
  return model->id;
}

const larodDevice* larodGetModelDevice(const larodModel* model, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return nullptr;
  }
  return model->device;
}

size_t larodGetModelSize(const larodModel* model, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return 0;
  }
  return model->size;
}

const char* larodGetModelName(const larodModel* model, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return nullptr;
  }
  return model->name.c_str();
}

larodAccess larodGetModelAccess(const larodModel* model, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return LAROD_ACCESS_INVALID;
  }
  return model->access;
}

size_t larodGetModelNumInputs(const larodModel* model, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return 0;
  }
  return model->inputs.size();
}

size_t larodGetModelNumOutputs(const larodModel* model, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return 0;
  }
  return model->outputs.size();
}

static size_t* byte_sizes(const std::vector<TensorInfo>& infos, size_t* num, larodError** error) {
  auto* arr = static_cast<size_t*>(std::calloc(infos.size() ? infos.size() : 1, sizeof(size_t)));
  if (!arr) {
    set_error(error, LAROD_ERROR_ALLOC, "out of memory");
    return nullptr;
  }
  for (size_t i = 0; i < infos.size(); ++i) arr[i] = static_cast<size_t>(infos[i].byte_size);
  if (num) *num = infos.size();
  return arr;
}

size_t* larodGetModelInputByteSizes(const larodModel* model, size_t* numInputs, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return nullptr;
  }
  return byte_sizes(model->inputs, numInputs, error);
}

size_t* larodGetModelOutputByteSizes(const larodModel* model, size_t* numOutputs, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return nullptr;
  }
  return byte_sizes(model->outputs, numOutputs, error);
}

// ---- Tensors ---------------------------------------------------------------

larodTensor** larodCreateModelInputs(const larodModel* model, size_t* numTensors, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return nullptr;
  }
  return tensors_from_infos(model->inputs, numTensors, error);
}

larodTensor** larodCreateModelOutputs(const larodModel* model, size_t* numTensors, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return nullptr;
  }
  return tensors_from_infos(model->outputs, numTensors, error);
}

larodTensor** larodAllocModelInputs(larodConnection* conn, const larodModel* model,
                                    const uint32_t fdPropFlags, size_t* numTensors, larodMap* params,
                                    larodError** error) {
  return alloc_tensors(conn, model, fdPropFlags, numTensors, params, false, error);
}

larodTensor** larodAllocModelOutputs(larodConnection* conn, const larodModel* model,
                                     const uint32_t fdPropFlags, size_t* numTensors, larodMap* params,
                                     larodError** error) {
  return alloc_tensors(conn, model, fdPropFlags, numTensors, params, true, error);
}

larodTensor** larodCreateTensors(const size_t numTensors, larodError** error) {
  if (numTensors == 0 || numTensors > 4096) {
    invalid(error, "numTensors must be 1..4096");
    return nullptr;
  }
  auto** arr = static_cast<larodTensor**>(std::calloc(numTensors, sizeof(larodTensor*)));
  if (!arr) {
    set_error(error, LAROD_ERROR_ALLOC, "out of memory");
    return nullptr;
  }
  for (size_t i = 0; i < numTensors; ++i) {
    arr[i] = new_tensor();
    if (!arr[i]) {
      for (size_t k = 0; k < i; ++k) delete arr[k];
      std::free(arr);
      set_error(error, LAROD_ERROR_ALLOC, "out of memory");
      return nullptr;
    }
  }
  return arr;
}

bool larodDestroyTensors(larodConnection* conn, larodTensor*** tensors, const size_t numTensors,
                         larodError** error) {
  if (!tensors || !*tensors) return true;
  std::vector<uint64_t> release;
  for (size_t i = 0; i < numTensors; ++i) {
    larodTensor* t = (*tensors)[i];
    if (!t) continue;
    if (conn && t->tracked_id && t->tracked_serial == conn->serial) release.push_back(t->tracked_id);
    if (conn && t->owned_id && t->owned_serial == conn->serial) release.push_back(t->owned_id);
    if (t->owned_fd >= 0) {
      if (conn && t->owned_serial == conn->serial) {
        std::lock_guard<std::mutex> lock(conn->mu);
        conn->owned_fds.erase(t->owned_fd);
      }
      ::close(t->owned_fd);
    }
    delete t;
  }
  std::free(*tensors);
  *tensors = nullptr;
  bool ok = true;
  bool broken = false;
  if (conn) {
    std::lock_guard<std::mutex> lock(conn->mu);
    broken = conn->broken;  // the service already freed everything of a dead session
  }
  for (size_t start = 0; !broken && start < release.size(); start += kMaxListItems) {
    std::vector<uint64_t> chunk(
        release.begin() + static_cast<std::ptrdiff_t>(start),
        release.begin() + static_cast<std::ptrdiff_t>(std::min(release.size(), start + kMaxListItems)));
    Writer w;
    w.u64s(chunk);
    ok = request(conn, Msg::kReleaseBuffers, w, {}, error) && ok;
  }
  return ok;
}

bool larodSetTensorDims(larodTensor* tensor, const larodTensorDims* dims, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  if (!dims) return invalid(error, "dims is NULL");
  if (dims->len > LAROD_TENSOR_MAX_LEN)
    return invalid(error, "dims->len is larger than LAROD_TENSOR_MAX_LEN");
  tensor->dims = *dims;
  return true;
}

const larodTensorDims* larodGetTensorDims(const larodTensor* tensor, larodError** error) {
  if (!tensor) {
    invalid(error, "tensor is NULL");
    return nullptr;
  }
  return &tensor->dims;
}

bool larodSetTensorPitches(larodTensor* tensor, const larodTensorPitches* pitches, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  if (!pitches) return invalid(error, "pitches is NULL");
  if (pitches->len > LAROD_TENSOR_MAX_LEN)
    return invalid(error, "pitches->len is larger than LAROD_TENSOR_MAX_LEN");
  tensor->pitches = *pitches;
  return true;
}

const larodTensorPitches* larodGetTensorPitches(const larodTensor* tensor, larodError** error) {
  if (!tensor) {
    invalid(error, "tensor is NULL");
    return nullptr;
  }
  return &tensor->pitches;
}

bool larodSetTensorDataType(larodTensor* tensor, const larodTensorDataType dataType, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  if (dataType <= LAROD_TENSOR_DATA_TYPE_INVALID || dataType >= LAROD_TENSOR_DATA_TYPE_MAX) {
    return invalid(error, "invalid data type " + std::to_string(static_cast<int>(dataType)));
  }
  tensor->data_type = dataType;
  return true;
}

larodTensorDataType larodGetTensorDataType(const larodTensor* tensor, larodError** error) {
  if (!tensor) {
    invalid(error, "tensor is NULL");
    return LAROD_TENSOR_DATA_TYPE_INVALID;
  }
  return tensor->data_type;
}

bool larodSetTensorLayout(larodTensor* tensor, const larodTensorLayout layout, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  if (layout <= LAROD_TENSOR_LAYOUT_INVALID || layout >= LAROD_TENSOR_LAYOUT_MAX) {
    return invalid(error, "invalid layout " + std::to_string(static_cast<int>(layout)));
  }
  tensor->layout = layout;
  return true;
}

larodTensorLayout larodGetTensorLayout(const larodTensor* tensor, larodError** error) {
  if (!tensor) {
    invalid(error, "tensor is NULL");
    return LAROD_TENSOR_LAYOUT_INVALID;
  }
  return tensor->layout;
}

bool larodSetTensorFd(larodTensor* tensor, const int fd, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  if (fd < 0 && fd != LAROD_INVALID_FD) return invalid(error, "invalid fd " + std::to_string(fd));
  if (tensor->tracked_id && fd != tensor->tracked_fd) {
    set_error(error, LAROD_ERROR_FD, "the tensor is tracked; its fd cannot change");
    return false;
  }
  tensor->fd = fd;
  return true;
}

int larodGetTensorFd(const larodTensor* tensor, larodError** error) {
  if (!tensor) {
    invalid(error, "tensor is NULL");
    return LAROD_INVALID_FD;
  }
  return tensor->fd;
}

bool larodSetTensorFdSize(larodTensor* tensor, const size_t size, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  tensor->fd_size = size;
  return true;
}

bool larodGetTensorFdSize(const larodTensor* tensor, size_t* size, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  if (!size) return invalid(error, "size is NULL");
  *size = tensor->fd_size;
  return true;
}

bool larodSetTensorFdOffset(larodTensor* tensor, const int64_t offset, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  if (offset < 0) return invalid(error, "negative fd offset");
  tensor->offset = offset;
  return true;
}

int64_t larodGetTensorFdOffset(const larodTensor* tensor, larodError** error) {
  if (!tensor) {
    invalid(error, "tensor is NULL");
    return -1;
  }
  return tensor->offset;
}

bool larodSetTensorFdProps(larodTensor* tensor, const uint32_t fdPropFlags, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  if (fdPropFlags & ~wire::kPropAll) return invalid(error, "unknown fd property flags");
  tensor->props = fdPropFlags;
  return true;
}

bool larodGetTensorFdProps(const larodTensor* tensor, uint32_t* fdPropFlags, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  if (!fdPropFlags) return invalid(error, "fdPropFlags is NULL");
  *fdPropFlags = tensor->props;
  return true;
}

const char* larodGetTensorName(const larodTensor* tensor, larodError** error) {
  if (!tensor) {
    invalid(error, "tensor is NULL");
    return nullptr;
  }
  return tensor->name.c_str();
}

bool larodGetTensorByteSize(const larodTensor* tensor, size_t* byteSize, larodError** error) {
  if (!tensor) return invalid(error, "tensor is NULL");
  if (!byteSize) return invalid(error, "byteSize is NULL");
  if (tensor->pitches.len > 0) {
    *byteSize = tensor->pitches.pitches[0];
    return true;
  }
  const size_t elem = data_type_size(static_cast<uint32_t>(tensor->data_type));
  if (tensor->dims.len > 0 && elem > 0 && tensor->layout != LAROD_TENSOR_LAYOUT_420SP) {
    size_t n = elem;
    for (size_t i = 0; i < tensor->dims.len; ++i) n *= tensor->dims.dims[i];
    *byteSize = n;
    return true;
  }
  if (tensor->model_byte_size > 0) {
    *byteSize = tensor->model_byte_size;
    return true;
  }
  return invalid(error, "the tensor's byte size is unknown (set its pitches, or its dims and data type)");
}

bool larodTrackTensor(larodConnection* conn, larodTensor* tensor, larodError** error) {
  if (!conn) return invalid(error, "conn is NULL");
  if (!tensor) return invalid(error, "tensor is NULL");
  if (tensor->fd < 0) {
    set_error(error, LAROD_ERROR_FD, "the tensor has no fd to track");
    return false;
  }
  if (tensor->owned_id && tensor->owned_serial == conn->serial && tensor->fd == tensor->owned_fd) return true;
  if (tensor->tracked_id) {
    if (tensor->tracked_serial == conn->serial && tensor->fd == tensor->tracked_fd) return true;
    set_error(error, LAROD_ERROR_FD, "the tensor is already tracked by another connection");
    return false;
  }
  Writer w;
  w.u32(tensor->props);
  uint64_t id = 0;
  if (!request(conn, Msg::kTrackBuffer, w, {tensor->fd}, error, [&](Reader& r, Message&) {
        id = r.u64();
        r.u64();
      })) {
    return false;
  }
  tensor->tracked_id = id;
  tensor->tracked_fd = tensor->fd;
  tensor->tracked_serial = conn->serial;
  return true;
}

// ---- Maps ------------------------------------------------------------------

larodMap* larodCreateMap(larodError** error) {
  auto* m = new (std::nothrow) larodMap();
  if (!m) set_error(error, LAROD_ERROR_ALLOC, "out of memory");
  return m;
}

void larodDestroyMap(larodMap** map) {
  if (!map || !*map) return;
  delete *map;
  *map = nullptr;
}

bool larodMapSetStr(larodMap* map, const char* key, const char* value, larodError** error) {
  if (!value) return invalid(error, "value is NULL");
  if (std::strlen(value) > kMaxString) return invalid(error, "value is too long");
  MapValue v;
  v.type = MapValue::kStr;
  v.s = value;
  return map_set(map, key, std::move(v), error);
}

bool larodMapSetInt(larodMap* map, const char* key, const int64_t value, larodError** error) {
  MapValue v;
  v.type = MapValue::kInt;
  v.v[0] = value;
  return map_set(map, key, std::move(v), error);
}

bool larodMapSetIntArr2(larodMap* map, const char* key, const int64_t value0, const int64_t value1,
                        larodError** error) {
  MapValue v;
  v.type = MapValue::kArr2;
  v.v[0] = value0;
  v.v[1] = value1;
  return map_set(map, key, std::move(v), error);
}

bool larodMapSetIntArr4(larodMap* map, const char* key, const int64_t value0, const int64_t value1,
                        const int64_t value2, const int64_t value3, larodError** error) {
  MapValue v;
  v.type = MapValue::kArr4;
  v.v[0] = value0;
  v.v[1] = value1;
  v.v[2] = value2;
  v.v[3] = value3;
  return map_set(map, key, std::move(v), error);
}

const char* larodMapGetStr(larodMap* map, const char* key, larodError** error) {
  const MapValue* v = map_get(map, key, MapValue::kStr, error);
  return v ? v->s.c_str() : nullptr;
}

bool larodMapGetInt(larodMap* map, const char* key, int64_t* value, larodError** error) {
  if (!value) return invalid(error, "value is NULL");
  const MapValue* v = map_get(map, key, MapValue::kInt, error);
  if (!v) return false;
  *value = v->v[0];
  return true;
}

const int64_t* larodMapGetIntArr2(larodMap* map, const char* key, larodError** error) {
  const MapValue* v = map_get(map, key, MapValue::kArr2, error);
  return v ? v->v : nullptr;
}

const int64_t* larodMapGetIntArr4(larodMap* map, const char* key, larodError** error) {
  const MapValue* v = map_get(map, key, MapValue::kArr4, error);
  return v ? v->v : nullptr;
}

// ---- Jobs ------------------------------------------------------------------

larodJobRequest* larodCreateJobRequest(const larodModel* model, larodTensor** inTensors,
                                       const size_t numInTensors, larodTensor** outTensors,
                                       const size_t numOutTensors, larodMap* params, larodError** error) {
  if (!model) {
    invalid(error, "model is NULL");
    return nullptr;
  }
  if (!check_tensor_list(inTensors, numInTensors, model->inputs.size(), "input", error) ||
      !check_tensor_list(outTensors, numOutTensors, model->outputs.size(), "output", error)) {
    return nullptr;
  }
  auto* req = new (std::nothrow) larodJobRequest();
  if (!req) {
    set_error(error, LAROD_ERROR_ALLOC, "out of memory");
    return nullptr;
  }
  req->model_id = model->id;
  req->model_inputs = model->inputs.size();
  req->model_outputs = model->outputs.size();
  req->inputs.assign(inTensors, inTensors + numInTensors);
  req->outputs.assign(outTensors, outTensors + numOutTensors);
  if (params) req->params = params->map;
  return req;
}

void larodDestroyJobRequest(larodJobRequest** jobReq) {
  if (!jobReq || !*jobReq) return;
  delete *jobReq;
  *jobReq = nullptr;
}

bool larodSetJobRequestModel(larodJobRequest* jobReq, const larodModel* model, larodError** error) {
  if (!jobReq) return invalid(error, "jobReq is NULL");
  if (!model) return invalid(error, "model is NULL");
  jobReq->model_id = model->id;
  jobReq->model_inputs = model->inputs.size();
  jobReq->model_outputs = model->outputs.size();
  return true;
}

bool larodSetJobRequestInputs(larodJobRequest* jobReq, larodTensor** tensors, const size_t numTensors,
                              larodError** error) {
  if (!jobReq) return invalid(error, "jobReq is NULL");
  if (!check_tensor_list(tensors, numTensors, jobReq->model_inputs, "input", error)) return false;
  jobReq->inputs.assign(tensors, tensors + numTensors);
  return true;
}

bool larodSetJobRequestOutputs(larodJobRequest* jobReq, larodTensor** tensors, const size_t numTensors,
                               larodError** error) {
  if (!jobReq) return invalid(error, "jobReq is NULL");
  if (!check_tensor_list(tensors, numTensors, jobReq->model_outputs, "output", error)) return false;
  jobReq->outputs.assign(tensors, tensors + numTensors);
  return true;
}

bool larodSetJobRequestPriority(larodJobRequest* jobReq, const uint8_t priority, larodError** error) {
  if (!jobReq) return invalid(error, "jobReq is NULL");
  if (priority > 100) return invalid(error, "priority must be 0..100");
  jobReq->priority = priority;
  return true;
}

bool larodSetJobRequestParams(larodJobRequest* jobReq, const larodMap* params, larodError** error) {
  if (!jobReq) return invalid(error, "jobReq is NULL");
  jobReq->params = params ? params->map : ParamMap{};
  return true;
}

bool larodRunJob(larodConnection* conn, const larodJobRequest* jobReq, larodError** error) {
  Writer w;
  std::vector<int> fds;
  if (!job_message(conn, jobReq, w, fds, error)) return false;
  return request(conn, Msg::kRunJob, w, fds, error);
}

bool larodRunJobAsync(larodConnection* conn, const larodJobRequest* jobReq, larodRunJobCallback callback,
                      void* userData, larodError** error) {
  Writer w;
  std::vector<int> fds;
  if (!job_message(conn, jobReq, w, fds, error)) return false;
  auto p = std::make_unique<larodConnection::Pending>();
  p->kind = larodConnection::Pending::kAsyncJob;
  p->job_cb = callback;
  p->user = userData;
  return conn->call_async(Msg::kRunJob, w, fds, std::move(p), error);
}

}  // extern "C"
