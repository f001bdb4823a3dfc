// ospreyd under stress and abuse: many clients at once, clients that die,
// malformed and oversize requests, files that are not models, a daemon that
// restarts under waiting clients. Every wait is bounded; nothing asserts on
// timing.
#include <poll.h>
#include <spawn.h>
#include <sys/mman.h>

#include <atomic>
#include <barrier>
#include <condition_variable>
#include <future>
#include <mutex>

#include "service_fixture.h"

extern char** environ;

namespace osprey::service::testing {
namespace {

class ReliabilityTest : public ServiceTest {};

// ---- 8 clients x 200 jobs ----------------------------------------------------

struct Slot {
  larodTensor** in = nullptr;
  larodTensor** out = nullptr;
  larodJobRequest* req = nullptr;
  std::unique_ptr<Mapped> in_map, out_map;
  std::vector<float> expected;
  int job = -1;
  bool busy = false;
};

struct ClientState {
  std::mutex mu;
  std::condition_variable cv;
  int completed = 0;
  int mismatches = 0;
  std::vector<std::string> errors;
};

struct CallbackData {
  ClientState* state;
  Slot* slot;
};

void on_done(void* user, larodError* error) {
  auto* d = static_cast<CallbackData*>(user);
  std::lock_guard<std::mutex> lock(d->state->mu);
  if (error) {
    d->state->errors.push_back(error->msg);
  } else if (std::memcmp(d->slot->out_map->data(), d->slot->expected.data(), 400) != 0) {
    d->state->mismatches++;
  }
  d->state->completed++;
  d->slot->busy = false;
  d->state->cv.notify_all();
}

TEST_F(ReliabilityTest, EightClientsTwoHundredJobsEachNothingLostOrMixed) {
  constexpr int kClients = 8, kJobs = 200, kSlots = 4;
  std::vector<std::unique_ptr<ClientState>> states;
  for (int i = 0; i < kClients; ++i) states.push_back(std::make_unique<ClientState>());

  auto client = [&](int id) {
    ClientState& st = *states[static_cast<size_t>(id)];
    auto record = [&](const std::string& what) {
      std::lock_guard<std::mutex> lock(st.mu);
      st.errors.push_back(what);
    };
    larodConnection* c = nullptr;
    Err e;
    if (!larodConnect(&c, &e)) return record("connect: " + e.msg());
    larodModel* m = load_tiny(c, id % 2 ? LAROD_ACCESS_PUBLIC : LAROD_ACCESS_PRIVATE, "stress");
    if (!m) return record("load failed");
    Reference ref;
    std::vector<Slot> slots(kSlots);
    std::vector<CallbackData> data(kSlots);
    size_t n;
    for (int s = 0; s < kSlots; ++s) {
      Slot& slot = slots[static_cast<size_t>(s)];
      slot.in = larodAllocModelInputs(c, m, LAROD_FD_PROP_MAP, &n, nullptr, &e);
      slot.out = larodAllocModelOutputs(c, m, LAROD_FD_PROP_MAP, &n, nullptr, &e);
      if (!slot.in || !slot.out) return record("alloc: " + e.msg());
      slot.req = larodCreateJobRequest(m, slot.in, 1, slot.out, 1, nullptr, &e);
      slot.in_map = std::make_unique<Mapped>(slot.in[0]);
      slot.out_map = std::make_unique<Mapped>(slot.out[0]);
      data[static_cast<size_t>(s)] = {&st, &slot};
    }
    for (int j = 0; j < kJobs; ++j) {
      Slot& slot = slots[static_cast<size_t>(j % kSlots)];
      {
        std::unique_lock<std::mutex> lock(st.mu);
        if (!st.cv.wait_for(lock, std::chrono::seconds(30), [&] { return !slot.busy; })) {
          st.errors.push_back("a job never completed");
          break;
        }
      }
      std::vector<float> input = random_input(static_cast<uint64_t>(id) * 100000 + static_cast<uint64_t>(j));
      std::memcpy(slot.in_map->data(), input.data(), 200);
      slot.expected = ref.run(input);
      slot.job = j;
      larodSetJobRequestPriority(slot.req, static_cast<uint8_t>((j * 37 + id * 11) % 101), nullptr);
      if (j % 5 == 0) {
        if (!larodRunJob(c, slot.req, &e)) {
          record("sync job: " + e.msg());
          e.clear();
        } else {
          std::lock_guard<std::mutex> lock(st.mu);
          if (std::memcmp(slot.out_map->data(), slot.expected.data(), 400) != 0) st.mismatches++;
        }
        std::lock_guard<std::mutex> lock(st.mu);
        st.completed++;
      } else {
        {
          std::lock_guard<std::mutex> lock(st.mu);
          slot.busy = true;
        }
        if (!larodRunJobAsync(c, slot.req, on_done, &data[static_cast<size_t>(j % kSlots)], &e)) {
          std::lock_guard<std::mutex> lock(st.mu);
          st.errors.push_back("async submit: " + e.msg());
          slot.busy = false;
          st.completed++;
          e.clear();
        }
      }
    }
    {
      std::unique_lock<std::mutex> lock(st.mu);
      if (!st.cv.wait_for(lock, std::chrono::seconds(30), [&] { return st.completed == kJobs; })) {
        st.errors.push_back("jobs lost: " + std::to_string(kJobs - st.completed));
      }
    }
    for (Slot& slot : slots) {
      slot.in_map.reset();
      slot.out_map.reset();
      larodDestroyJobRequest(&slot.req);
      larodDestroyTensors(c, &slot.in, 1, nullptr);
      larodDestroyTensors(c, &slot.out, 1, nullptr);
    }
    larodDestroyModel(&m);
    larodDisconnect(&c, nullptr);
  };

  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) threads.emplace_back(client, i);
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) {
    ClientState& st = *states[static_cast<size_t>(i)];
    EXPECT_EQ(st.completed, kJobs) << "client " << i;
    EXPECT_EQ(st.mismatches, 0) << "client " << i;
    for (const auto& err : st.errors) ADD_FAILURE() << "client " << i << ": " << err;
  }
  RawClient raw(socket_);
  ASSERT_TRUE(raw.hello());
  RawClient::Stats s;
  EXPECT_TRUE(eventually([&] { return raw.stats(s) && s.sessions == 1 && s.buffers == 0 && s.models == 0; }))
      << "sessions " << s.sessions << " buffers " << s.buffers << " models " << s.models;
}

// ---- A client killed mid-job -------------------------------------------------

struct Child {
  pid_t pid = -1;
  int out = -1;
  ~Child() {
    if (pid > 0) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
    }
    if (out >= 0) ::close(out);
  }
  bool spawn(const std::vector<std::string>& args) {
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) return false;
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, p[1], 1);
    std::vector<char*> argv;
    std::vector<std::string> copy = args;
    for (auto& a : copy) argv.push_back(a.data());
    argv.push_back(nullptr);
    int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    ::close(p[1]);
    out = p[0];
    return rc == 0;
  }
  bool wait_line(const std::string& line) {
    std::string got;
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < until) {
      pollfd pfd{out, POLLIN, 0};
      if (::poll(&pfd, 1, 100) <= 0) continue;
      char buf[256];
      ssize_t n = ::read(out, buf, sizeof(buf));
      if (n <= 0) return false;
      got.append(buf, static_cast<size_t>(n));
      if (got.find(line) != std::string::npos) return true;
    }
    return false;
  }
  void kill9() {
    ::kill(pid, SIGKILL);
    ::waitpid(pid, nullptr, 0);
    pid = -1;
  }
};

bool model_named(larodConnection* c, const char* name) {
  size_t n = 0;
  larodModel** models = larodGetModels(c, &n, nullptr);
  bool found = false;
  for (size_t i = 0; i < n; ++i)
    found = found || std::strcmp(larodGetModelName(models[i], nullptr), name) == 0;
  larodDestroyModels(&models, n);
  return found;
}

void expect_tiny_works(ServiceTest& t, larodConnection* c, larodModel* m) {
  Err e;
  size_t n;
  larodTensor** in = larodAllocModelInputs(c, m, 0, &n, nullptr, &e);
  larodTensor** out = larodAllocModelOutputs(c, m, 0, &n, nullptr, &e);
  ASSERT_NE(out, nullptr) << e.msg();
  larodJobRequest* req = larodCreateJobRequest(m, in, 1, out, 1, nullptr, &e);
  {
    Mapped mi(in[0]), mo(out[0]);
    std::vector<float> input = random_input(42);
    std::memcpy(mi.data(), input.data(), 200);
    EXPECT_TRUE(larodRunJob(c, req, &e)) << e.msg();
    Reference ref;
    EXPECT_EQ(std::memcmp(mo.data(), ref.run(input).data(), 400), 0);
  }
  larodDestroyJobRequest(&req);
  larodDestroyTensors(c, &in, 1, nullptr);
  larodDestroyTensors(c, &out, 1, nullptr);
  (void)t;
}

TEST_F(ReliabilityTest, ClientKilledMidJobFreesItsModelsAndTensors) {
  larodConnection* c = connect();
  larodModel* mine = load_tiny(c);
  RawClient raw(socket_);
  ASSERT_TRUE(raw.hello());
  RawClient::Stats base;
  ASSERT_TRUE(raw.stats(base));

  // 1. Jobs queued (the device is held) when the client dies.
  ASSERT_EQ(raw.device_hook(Msg::kTestPauseDevice), 0);
  {
    Child child;
    ASSERT_TRUE(child.spawn({CRASH_CLIENT_PATH, model_path_, "queue"}));
    ASSERT_TRUE(child.wait_line("ready")) << daemon_.log();
    EXPECT_TRUE(model_named(c, "crash-victim"));
    RawClient::Stats s;
    ASSERT_TRUE(eventually([&] { return raw.stats(s) && s.queued == 50; }));
    child.kill9();
  }
  ASSERT_EQ(raw.device_hook(Msg::kTestResumeDevice), 0);
  RawClient::Stats s;
  EXPECT_TRUE(eventually([&] {
    return raw.stats(s) && s.sessions == base.sessions && s.models == base.models &&
           s.buffers == base.buffers && s.queued == 0;
  })) << "sessions "
      << s.sessions << " models " << s.models << " buffers " << s.buffers << " queued " << s.queued;
  EXPECT_FALSE(model_named(c, "crash-victim"));

  // 2. Killed while jobs stream through the running device.
  for (int round = 0; round < 3; ++round) {
    Child child;
    ASSERT_TRUE(child.spawn({CRASH_CLIENT_PATH, model_path_, "loop"}));
    ASSERT_TRUE(child.wait_line("ready"));
    std::this_thread::sleep_for(std::chrono::milliseconds(20 * round));
    child.kill9();
  }
  EXPECT_TRUE(eventually([&] {
    return raw.stats(s) && s.sessions == base.sessions && s.models == base.models &&
           s.buffers == base.buffers && s.queued == 0;
  }));
  EXPECT_TRUE(daemon_.alive());
  expect_tiny_works(*this, c, mine);
  EXPECT_NE(daemon_.log().find("event=session_closed"), std::string::npos);
  larodDestroyModel(&mine);
  larodDisconnect(&c, nullptr);
}

// ---- Malformed, oversize and hostile requests ---------------------------------

Writer hello_payload() {
  Writer w;
  w.str("raw");
  return w;
}

std::vector<uint8_t> header_bytes(uint32_t magic, uint16_t version, uint16_t type, uint32_t length,
                                  uint32_t nfds) {
  Header h;
  h.magic = magic;
  h.version = version;
  h.type = type;
  h.length = length;
  h.num_fds = nfds;
  h.id = 1;
  std::vector<uint8_t> b(sizeof(h));
  std::memcpy(b.data(), &h, sizeof(h));
  return b;
}

// A RUN_JOB payload for the tiny model with one input and one output ref.
Writer job_payload(uint64_t model, const TensorRef& in, const TensorRef& out, uint8_t priority = 50) {
  RunJobRequest req;
  req.model_id = model;
  req.priority = priority;
  req.inputs = {in};
  req.outputs = {out};
  Writer w;
  req.write(w);
  return w;
}

TEST_F(ReliabilityTest, MalformedAndOversizeRequestsNeverHurtTheDaemon) {
  const int base_fds = daemon_.open_fds();
  ASSERT_GT(base_fds, 0);
  auto expect_dropped = [&](const char* what, const std::function<void(RawClient&)>& act) {
    RawClient r(socket_);
    ASSERT_TRUE(r.connected()) << what;
    act(r);
    EXPECT_TRUE(r.closed_by_peer()) << what;
    RawClient again(socket_);
    EXPECT_TRUE(again.hello()) << "daemon unusable after: " << what;
  };

  expect_dropped("random bytes", [](RawClient& r) {
    std::vector<uint8_t> junk(64);
    for (size_t i = 0; i < junk.size(); ++i) junk[i] = static_cast<uint8_t>(i * 97 + 13);
    EXPECT_EQ(r.send_raw(junk.data(), junk.size()), 0);
  });
  expect_dropped("short message", [](RawClient& r) { EXPECT_EQ(r.send_raw("abc", 3), 0); });
  expect_dropped("wrong magic", [](RawClient& r) {
    auto h = header_bytes(0x12345678, kProtocolVersion, 1, 0, 0);
    EXPECT_EQ(r.send_raw(h.data(), h.size()), 0);
  });
  expect_dropped("length field larger than the message", [](RawClient& r) {
    auto h = header_bytes(kMagic, kProtocolVersion, 1, 1u << 30, 0);
    EXPECT_EQ(r.send_raw(h.data(), h.size()), 0);
  });
  expect_dropped("fd count that does not match", [](RawClient& r) {
    auto h = header_bytes(kMagic, kProtocolVersion, 1, 0, 3);
    EXPECT_EQ(r.send_raw(h.data(), h.size()), 0);
  });
  expect_dropped("oversize message", [](RawClient& r) {
    int size = 1 << 20;
    ::setsockopt(r.fd(), SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
    std::vector<uint8_t> big(100 * 1024, 0);
    auto h = header_bytes(kMagic, kProtocolVersion, 1, static_cast<uint32_t>(big.size() - sizeof(Header)), 0);
    std::memcpy(big.data(), h.data(), h.size());
    EXPECT_EQ(r.send_raw(big.data(), big.size()), 0);
  });
  expect_dropped("wrong protocol version", [](RawClient& r) {
    Writer w = hello_payload();
    auto h = header_bytes(kMagic, 2, static_cast<uint16_t>(Msg::kHello),
                          static_cast<uint32_t>(w.bytes().size()), 0);
    h.insert(h.end(), w.bytes().begin(), w.bytes().end());
    EXPECT_EQ(r.send_raw(h.data(), h.size()), 0);
    Message m;
    ASSERT_TRUE(r.recv(m));
    EXPECT_EQ(m.reader().i32(), LAROD_ERROR_VERSION_MISMATCH);
  });
  expect_dropped("request before HELLO",
                 [](RawClient& r) { EXPECT_NE(r.call(Msg::kNumSessions, Writer()), 0); });
  expect_dropped("HELLO twice", [](RawClient& r) {
    ASSERT_TRUE(r.hello());
    EXPECT_NE(r.call(Msg::kHello, hello_payload()), 0);
  });
  expect_dropped("unknown request type", [](RawClient& r) {
    ASSERT_TRUE(r.hello());
    EXPECT_NE(r.call(static_cast<Msg>(77), Writer()), 0);
  });
  expect_dropped("truncated string", [](RawClient& r) {
    Writer w;
    w.u32(1000);  // says 1000 bytes follow, 3 do
    w.u8('a');
    w.u8('b');
    w.u8('c');
    EXPECT_NE(r.call(Msg::kHello, w), 0);
  });
  expect_dropped("trailing bytes", [](RawClient& r) {
    Writer w = hello_payload();
    w.u32(7);
    EXPECT_NE(r.call(Msg::kHello, w), 0);
  });
  expect_dropped("file descriptors on a request that takes none", [](RawClient& r) {
    ASSERT_TRUE(r.hello());
    int fd = ::memfd_create("x", MFD_CLOEXEC);
    EXPECT_NE(r.call(Msg::kNumSessions, Writer(), {fd}), 0);
    ::close(fd);
  });
  expect_dropped("too many file descriptors", [](RawClient& r) {
    ASSERT_TRUE(r.hello());
    std::vector<int> fds;
    for (int i = 0; i < 40; ++i) fds.push_back(::memfd_create("x", MFD_CLOEXEC));
    // send_message refuses more than kMaxFds; build the message by hand.
    Header h;
    h.type = static_cast<uint16_t>(Msg::kNumSessions);
    h.num_fds = 40;
    iovec iov{&h, sizeof(h)};
    alignas(cmsghdr) unsigned char control[CMSG_SPACE(sizeof(int) * 40)];
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof(control);
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * 40);
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * 40);
    EXPECT_GT(::sendmsg(r.fd(), &msg, MSG_NOSIGNAL), 0);
    for (int fd : fds) ::close(fd);
  });

  // Semantically bad jobs on a live session: clear errors, the session stays.
  RawClient r(socket_);
  ASSERT_TRUE(r.hello());
  Writer load;
  load.u8(1);
  load.str("cpu-tflite");
  load.u32(0);
  load.u32(LAROD_ACCESS_PRIVATE);
  load.str("raw");
  load.u32(0);
  int model_fd = ::open(model_path_.c_str(), O_RDONLY | O_CLOEXEC);
  Message reply;
  ASSERT_EQ(r.call(Msg::kLoadModel, load, {model_fd}, nullptr, &reply), 0);
  ::close(model_fd);
  Reader rr = reply.reader();
  rr.i32();
  rr.str();
  const uint64_t model = ModelInfo::read(rr).id;
  Writer alloc;
  alloc.u64(model);
  alloc.u8(0);
  alloc.u32(0);
  alloc.u32(0);
  ASSERT_EQ(r.call(Msg::kAllocTensors, alloc, {}, nullptr, &reply), 0);
  rr = reply.reader();
  rr.i32();
  rr.str();
  ASSERT_EQ(rr.u32(), 1u);
  const uint64_t in_id = rr.u64();
  alloc.bytes()[8] = 1;  // outputs
  ASSERT_EQ(r.call(Msg::kAllocTensors, alloc, {}, nullptr, &reply), 0);
  rr = reply.reader();
  rr.i32();
  rr.str();
  rr.u32();
  const uint64_t out_id = rr.u64();

  TensorRef in, out;
  in.kind = out.kind = TensorRef::kBuffer;
  in.buffer_id = in_id;
  out.buffer_id = out_id;
  std::string text;
  ASSERT_EQ(r.call(Msg::kRunJob, job_payload(model, in, out), {}, &text), 0) << text;

  TensorRef bad = in;
  bad.buffer_id = 999;
  EXPECT_EQ(r.call(Msg::kRunJob, job_payload(model, bad, out), {}, &text), LAROD_ERROR_FD);
  EXPECT_NE(text.find("unknown buffer id 999"), std::string::npos) << text;
  bad = in;
  bad.offset = -8;
  EXPECT_EQ(r.call(Msg::kRunJob, job_payload(model, bad, out), {}, &text), LAROD_ERROR_FD);
  bad = in;
  bad.fd_size = 1u << 30;
  EXPECT_EQ(r.call(Msg::kRunJob, job_payload(model, bad, out), {}, &text), LAROD_ERROR_FD);
  EXPECT_NE(text.find("larger than the memory behind the fd"), std::string::npos) << text;
  bad = in;
  bad.offset = INT64_MAX;
  EXPECT_EQ(r.call(Msg::kRunJob, job_payload(model, bad, out), {}, &text), LAROD_ERROR_FD);
  EXPECT_EQ(r.call(Msg::kRunJob, job_payload(model + 1000, in, out), {}, &text), LAROD_ERROR_MODEL_NOT_FOUND);
  EXPECT_EQ(r.call(Msg::kRunJob, job_payload(model, in, out, 200), {}, &text), LAROD_ERROR_JOB);
  int p[2];
  ASSERT_EQ(::pipe(p), 0);
  TensorRef piped;
  piped.kind = TensorRef::kFd;
  piped.fd_index = 0;
  piped.props = LAROD_FD_TYPE_DISK;
  EXPECT_EQ(r.call(Msg::kRunJob, job_payload(model, piped, out), {p[0]}, &text), LAROD_ERROR_FD);
  EXPECT_NE(text.find("not a regular file"), std::string::npos) << text;
  ::close(p[0]);
  ::close(p[1]);
  Writer release;
  release.u64s({12345});
  EXPECT_EQ(r.call(Msg::kReleaseBuffers, release, {}, &text), LAROD_ERROR_FD);
  // Still a working session.
  EXPECT_EQ(r.call(Msg::kRunJob, job_payload(model, in, out), {}, &text), 0) << text;

  // Structurally bad jobs end the session.
  {
    TensorRef many = in;
    many.dims.assign(13, 1);
    EXPECT_NE(r.call(Msg::kRunJob, job_payload(model, many, out), {}, &text), 0);
    EXPECT_TRUE(r.closed_by_peer());
  }
  {
    RawClient r2(socket_);
    ASSERT_TRUE(r2.hello());
    TensorRef idx;
    idx.kind = TensorRef::kFd;
    idx.fd_index = 5;
    EXPECT_NE(r2.call(Msg::kRunJob, job_payload(model, idx, out), {}, &text), 0);
    EXPECT_TRUE(r2.closed_by_peer());
  }
  {
    RawClient r3(socket_);
    ASSERT_TRUE(r3.hello());
    Writer w;
    w.u64(model);
    w.u8(50);
    w.u32(0);
    w.u32(1000000);  // a million input tensors
    EXPECT_NE(r3.call(Msg::kRunJob, w, {}, &text), 0);
    EXPECT_TRUE(r3.closed_by_peer());
  }
  r.close();  // drop the first session too
  EXPECT_TRUE(daemon_.alive());
  // No descriptors leaked: every session's fds, tensor memfds and passed fds are closed.
  int now = -1;
  EXPECT_TRUE(eventually([&] { return (now = daemon_.open_fds()) <= base_fds; }))
      << "fds before " << base_fds << ", after " << now;
  EXPECT_NE(daemon_.log().find("event=protocol_error"), std::string::npos);
}

TEST_F(ReliabilityTest, ClientThatNeverReadsRepliesOnlyStallsItself) {
  RawClient flood(socket_);
  ASSERT_TRUE(flood.hello());
  int flags = ::fcntl(flood.fd(), F_GETFL);
  ::fcntl(flood.fd(), F_SETFL, flags | O_NONBLOCK);
  int sent = 0;
  for (; sent < 200000; ++sent) {
    if (flood.send(Msg::kNumSessions, Writer()) != 0) break;
  }
  EXPECT_LT(sent, 200000) << "the daemon never pushed back";
  // Others are served meanwhile.
  larodConnection* c = connect();
  larodModel* m = load_tiny(c);
  expect_tiny_works(*this, c, m);
  larodDestroyModel(&m);
  larodDisconnect(&c, nullptr);
  flood.close();
  RawClient raw(socket_);
  ASSERT_TRUE(raw.hello());
  RawClient::Stats s;
  EXPECT_TRUE(eventually([&] { return raw.stats(s) && s.sessions == 1; }));
}

TEST_F(ReliabilityTest, FileThatShrinksUnderTheDaemonIsAnErrorNotACrash) {
  larodConnection* c = connect();
  larodModel* m = load_tiny(c);
  Err e;
  size_t n;
  larodTensor** in = larodCreateModelInputs(m, &n, &e);
  larodTensor** out = larodAllocModelOutputs(c, m, 0, &n, nullptr, &e);
  int fd = ::memfd_create("shrinks", MFD_CLOEXEC);
  ASSERT_EQ(::ftruncate(fd, 8192), 0);
  ASSERT_TRUE(larodSetTensorFd(in[0], fd, &e));
  ASSERT_TRUE(larodTrackTensor(c, in[0], &e)) << e.msg();  // the daemon maps it now
  larodJobRequest* req = larodCreateJobRequest(m, in, 1, out, 1, nullptr, &e);
  ASSERT_TRUE(larodRunJob(c, req, &e)) << e.msg();
  ASSERT_EQ(::ftruncate(fd, 0), 0);  // pull the memory away under the mapping
  EXPECT_FALSE(larodRunJob(c, req, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_FD);
  EXPECT_NE(e.msg().find("vanished"), std::string::npos) << e.msg();
  e.clear();
  EXPECT_FALSE(larodRunJob(c, req, &e));
  EXPECT_NE(e.msg().find("vanished"), std::string::npos) << e.msg();
  e.clear();
  EXPECT_TRUE(daemon_.alive());
  expect_tiny_works(*this, c, m);
  larodDestroyJobRequest(&req);
  larodDestroyTensors(c, &in, 1, nullptr);
  larodDestroyTensors(c, &out, 1, nullptr);
  ::close(fd);
  larodDestroyModel(&m);
  larodDisconnect(&c, nullptr);
}

// ---- A file that is not a model -------------------------------------------------

std::string in_process_error(const std::vector<uint8_t>& bytes, const std::string& label) {
  try {
    Interpreter::from_buffer(bytes, label);
  } catch (const osprey::Error& e) {
    return e.what();
  }
  return "(loaded fine)";
}

TEST_F(ReliabilityTest, NotAModelReportsTheRealReason) {
  larodConnection* c = connect();
  const larodDevice* dev = larodGetDevice(c, "cpu-tflite", 0, nullptr);
  std::vector<uint8_t> tiny = tiny_model_bytes();
  osprey::testing::ModelSpec unsupported = osprey::testing::tiny_conv_model();
  unsupported.op_codes[1] = 120;  // an op after the conv that osprey may not run
  const std::vector<std::pair<std::string, std::vector<uint8_t>>> cases = {
      {"text", std::vector<uint8_t>({'t', 'h', 'i', 's', ' ', 'i', 's', ' ', 'n', 'o', 't', ' ', 'a', ' ',
                                     'm', 'o', 'd', 'e', 'l'})},
      {"truncated",
       std::vector<uint8_t>(tiny.begin(), tiny.begin() + static_cast<std::ptrdiff_t>(tiny.size() / 2))},
      {"zeros", std::vector<uint8_t>(4096, 0)},
      {"bad-op", osprey::testing::build_model(unsupported)},
  };
  for (const auto& [label, bytes] : cases) {
    std::string path = dir_.path() + "/" + label + ".tflite";
    write_file(path, bytes);
    const std::string expected = in_process_error(bytes, label);
    if (expected == "(loaded fine)") continue;  // osprey runs that op after all: nothing to compare
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    Err e;
    larodModel* m = larodLoadModel(c, fd, dev, LAROD_ACCESS_PRIVATE, label.c_str(), nullptr, &e);
    ::close(fd);
    EXPECT_EQ(m, nullptr) << label;
    EXPECT_EQ(e.code(), LAROD_ERROR_LOAD_MODEL) << label;
    EXPECT_EQ(e.msg(), expected) << label;  // exactly osprey's own message
    // The log line says the same, at error priority.
    const std::string log = daemon_.log();
    EXPECT_NE(log.find("<3>event=load_failed"), std::string::npos);
    std::string needle = expected.substr(0, 40);
    EXPECT_NE(log.find(needle), std::string::npos) << "log lacks: " << needle << "\n" << log;
  }
  // An empty file and a directory are load errors too, not crashes.
  std::string empty = dir_.path() + "/empty.tflite";
  write_file(empty, {});
  int fd = ::open(empty.c_str(), O_RDONLY | O_CLOEXEC);
  Err e;
  EXPECT_EQ(larodLoadModel(c, fd, dev, LAROD_ACCESS_PRIVATE, "empty", nullptr, &e), nullptr);
  EXPECT_NE(e.msg().find("empty"), std::string::npos) << e.msg();
  ::close(fd);
  e.clear();
  fd = ::open(dir_.path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  EXPECT_EQ(larodLoadModel(c, fd, dev, LAROD_ACCESS_PRIVATE, "dir", nullptr, &e), nullptr);
  EXPECT_NE(e.msg().find("not a regular file"), std::string::npos) << e.msg();
  ::close(fd);
  EXPECT_TRUE(daemon_.alive());
  larodDisconnect(&c, nullptr);
}

// ---- A legal model too big for the host --------------------------------------------

// x [1, side, side, 2] float -> RELU -> y: 16 side^2 bytes of working tensors
// in a file of a few hundred bytes.
std::vector<uint8_t> relu_model(int32_t side) {
  osprey::testing::ModelBuilder m;
  const int x = m.activation({1, side, side, 2});
  const int y = m.activation({1, side, side, 2});
  m.op(tfl::BuiltinOperator::RELU, {x}, {y});
  m.output(y);
  return m.finish();
}

// One float unit over `inputs` values: XNNPACK packs its weights for 16
// units at once, so it holds 16 times the file's weights.
std::vector<uint8_t> one_unit_model(int32_t inputs) {
  osprey::testing::ModelBuilder m;
  const int x = m.activation({1, inputs});
  const int w = m.random_constant({1, inputs});
  const int y = m.activation({1, 1});
  m.op(tfl::BuiltinOperator::FULLY_CONNECTED, {x, w}, {y}, [](flatbuffers::FlatBufferBuilder& b) {
    return std::make_pair(tfl::BuiltinOptions::FullyConnectedOptions,
                          tfl::CreateFullyConnectedOptions(b).Union());
  });
  m.output(y);
  return m.finish();
}

// "X.Y MiB", as ospreyd's refusals write a number of bytes.
std::string mib(uint64_t bytes) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f MiB", static_cast<double>(bytes) / (1 << 20));
  return text;
}

// Loads `bytes` on `device`; the error message, or "" when it loaded.
std::string load_error(larodConnection* c, const std::string& path, const std::vector<uint8_t>& bytes,
                       const char* device, int* code = nullptr) {
  write_file(path, bytes);
  Err e;
  const larodDevice* dev = larodGetDevice(c, device, 0, &e);
  if (!dev) return "no device " + std::string(device) + ": " + e.msg();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  larodModel* m = larodLoadModel(c, fd, dev, LAROD_ACCESS_PRIVATE, "relu", nullptr, &e);
  ::close(fd);
  if (code) *code = e.code();
  if (!m) return e.msg();
  larodDestroyModel(&m);
  return "";
}

// A daemon of the test's own, started with `options`; the test's clients
// reach it (OSPREY_SOCKET) until it stops, then the fixture's daemon again.
class OwnDaemon {
 public:
  explicit OwnDaemon(std::string fixture_socket) : fixture_socket_(std::move(fixture_socket)) {}
  ~OwnDaemon() { ::setenv("OSPREY_SOCKET", fixture_socket_.c_str(), 1); }
  bool start(const std::vector<std::string>& options, int fd_limit = 0) {
    daemon_.fd_limit = fd_limit;
    if (!daemon_.start(socket(), path("ospreyd.log"), options)) return false;
    ::setenv("OSPREY_SOCKET", socket().c_str(), 1);
    return true;
  }
  // Its exit status.
  int stop() {
    ::setenv("OSPREY_SOCKET", fixture_socket_.c_str(), 1);
    return daemon_.stop();
  }
  std::string socket() const { return path("own.sock"); }
  std::string path(const std::string& name) const { return dir_.path() + "/" + name; }
  std::string log() const { return daemon_.log(); }
  bool alive() const { return daemon_.alive(); }

 private:
  std::string fixture_socket_;
  TempDir dir_;
  Daemon daemon_;
};

TEST_F(ReliabilityTest, ALegalModelOfHugeTensorsIsRefusedBeforeItTakesTheMemory) {
  // 4 GiB of tensors, above the default budget of 1 GiB: refused on the CPU
  // device and on an emulated DLPU (whose vetting prepares the model too).
  larodConnection* c = connect();
  const std::vector<uint8_t> huge = relu_model(16384);
  for (const char* device : {"cpu-tflite", "axis-a8-dlpu-tflite"}) {
    int code = 0;
    const std::string error = load_error(c, dir_.path() + "/huge.tflite", huge, device, &code);
    EXPECT_EQ(code, LAROD_ERROR_LOAD_MODEL) << device;
    EXPECT_NE(error.find("the model's tensors need 4294967296 bytes, above the budget of 1073741824"),
              std::string::npos)
        << device << ": " << error;
  }
  EXPECT_TRUE(daemon_.alive());
  larodModel* tiny = load_tiny(c);
  expect_tiny_works(*this, c, tiny);
  larodDestroyModel(&tiny);
  larodDisconnect(&c, nullptr);

  // --max-model-memory sets the budget in MiB: 4 MiB of tensors load at 4, not at 3.
  const std::vector<uint8_t> four_mib = relu_model(512);
  for (const auto& [mib, loads] : {std::pair{"3", false}, std::pair{"4", true}}) {
    OwnDaemon limited(socket_);
    ASSERT_TRUE(limited.start({"--max-model-memory", mib}));
    larodConnection* lc = connect();
    const std::string error = load_error(lc, limited.path("relu.tflite"), four_mib, "cpu-tflite");
    EXPECT_EQ(error.empty(), loads) << mib << " MiB: " << error;
    if (!loads) {
      EXPECT_NE(error.find("above the budget of 3145728"), std::string::npos) << error;
    }
    larodDisconnect(&lc, nullptr);
    EXPECT_EQ(limited.stop(), 0);
  }
  // A value that is not a number of MiB stops ospreyd at start-up (2^44 MiB
  // would wrap to 0 bytes, no limit).
  for (const std::string flag : {"--max-model-memory", "--max-memory"}) {
    for (const char* bad : {"-1", "lots", "", "17592186044416"}) {
      OwnDaemon refused(socket_);
      EXPECT_FALSE(refused.start({flag, bad}));
      const int status = refused.stop();
      EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2)
          << flag << " " << bad << ": status " << status;
      EXPECT_NE(refused.log().find(flag + " takes a number of MiB"), std::string::npos) << flag << " " << bad;
    }
  }
  // So does a count that is not a whole number in its range (atoi read
  // "abc" threads as 0, one per core, and "5x" sessions as 5).
  for (const auto& [flag, bad] : {std::pair<std::string, const char*>{"--threads", "abc"},
                                  {"--threads", "257"},
                                  {"--threads", "-1"},
                                  {"--threads", "99999999999"},
                                  {"--max-sessions", "5x"},
                                  {"--max-sessions", "0"},
                                  {"--max-sessions", ""}}) {
    OwnDaemon refused(socket_);
    EXPECT_FALSE(refused.start({flag, bad}));
    const int status = refused.stop();
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 2) << flag << " " << bad << ": status " << status;
    EXPECT_NE(refused.log().find(flag + " takes a whole number from "), std::string::npos)
        << flag << " " << bad;
  }
}

// ---- One memory budget for every client ------------------------------------------

TEST_F(ReliabilityTest, OneMemoryBudgetCoversEveryClientsModelsAndTensors) {
  // Two clients, each far below its own limits, share --max-memory 10 (MiB).
  OwnDaemon limited(socket_);
  ASSERT_TRUE(limited.start({"--max-memory", "10"}));
  larodConnection* a = connect();
  larodConnection* b = connect();
  RawClient raw(limited.socket());
  ASSERT_TRUE(raw.hello());
  RawClient::Stats s;
  ASSERT_TRUE(raw.stats(s));
  EXPECT_EQ(s.memory, 0u);

  // A model is charged its file and its working tensors (here 4 MiB: RELU's
  // input and output), and what the interpreter and its backends hold
  // besides (a few KiB here); the same bytes loaded again share them.
  const std::vector<uint8_t> four_mib = relu_model(512);
  EXPECT_EQ(load_error(a, limited.path("a.tflite"), four_mib, "cpu-tflite"), "");
  ASSERT_TRUE(raw.stats(s));
  const uint64_t first = s.memory;
  EXPECT_GE(first, four_mib.size() + (4u << 20));
  EXPECT_LE(first, four_mib.size() + (4u << 20) + (256u << 10));
  EXPECT_EQ(load_error(b, limited.path("b.tflite"), four_mib, "cpu-tflite"), "");
  ASSERT_TRUE(raw.stats(s));
  EXPECT_EQ(s.memory, first);
  EXPECT_EQ(load_error(b, limited.path("b2.tflite"), relu_model(400), "cpu-tflite"), "");  // 2.4 MiB
  ASSERT_TRUE(raw.stats(s));
  const uint64_t second = s.memory - first;
  const uint64_t left = (10u << 20) - s.memory;

  // 3.5 MiB are left: another 4 MiB model is refused, on every device, and
  // so is a cpu-proc conversion whose scratch would not fit.
  for (const char* device : {"cpu-tflite", "axis-a8-dlpu-tflite"}) {
    int code = 0;
    const std::string error = load_error(a, limited.path("c.tflite"), relu_model(511), device, &code);
    EXPECT_EQ(code, LAROD_ERROR_LOAD_MODEL) << device;
    EXPECT_NE(error.find("the model's working memory needs 4.0 MiB; ospreyd has " + mib(left) +
                         " of its 10.0 MiB memory budget left (--max-memory)"),
              std::string::npos)
        << device << ": " << error;
  }
  {
    Err e;
    EXPECT_EQ(load_proc(a, {{"image.input.size", {1920, 1080}}},
                        {{"image.input.format", "nv12"}, {"image.output.format", "rgb-planar"}}, e),
              nullptr);
    EXPECT_EQ(e.code(), LAROD_ERROR_LOAD_MODEL);
    EXPECT_NE(e.msg().find("needs 8.9 MiB; ospreyd has " + mib(left)), std::string::npos) << e.msg();
  }

  // Tensors ospreyd allocates come from the same budget: the 2.4 MiB model's
  // 1.2 MiB input fits twice more, not three times.
  larodModel* m400 = nullptr;
  {
    Err e;
    size_t n = 0;
    larodModel** models = larodGetModels(b, &n, &e);
    for (size_t i = 0; i < n; ++i) {
      if (larodGetModelSize(models[i], nullptr) == relu_model(400).size()) m400 = models[i];
    }
    ASSERT_NE(m400, nullptr);
    std::vector<larodTensor**> held;
    std::string refusal;
    int code = 0;
    for (int i = 0; i < 5; ++i) {
      size_t count = 0;
      Err ae;
      larodTensor** t = larodAllocModelInputs(b, m400, 0, &count, nullptr, &ae);
      if (!t) {
        refusal = ae.msg();
        code = ae.code();
        break;
      }
      held.push_back(t);
    }
    EXPECT_EQ(held.size(), 2u);
    EXPECT_EQ(code, LAROD_ERROR_ALLOC);
    EXPECT_NE(refusal.find("needs 1.2 MiB; ospreyd has " + mib(left - 2560000u) +
                           " of its 10.0 MiB memory budget left"),
              std::string::npos)
        << refusal;
    // Destroying the tensors gives their memory back.
    for (auto* t : held) larodDestroyTensors(b, &t, 1, nullptr);
    ASSERT_TRUE(raw.stats(s));
    EXPECT_EQ(s.memory, first + second);
    larodDestroyModels(&models, n);
  }

  // A client that leaves gives back all it held; what the other still uses
  // (the shared model) stays charged once, and its 4 MiB model now loads.
  larodDisconnect(&b, nullptr);
  EXPECT_TRUE(eventually([&] { return raw.stats(s) && s.memory == first; })) << s.memory;
  EXPECT_EQ(load_error(a, limited.path("c.tflite"), relu_model(511), "cpu-tflite"), "");
  larodDisconnect(&a, nullptr);
  EXPECT_TRUE(eventually([&] { return raw.stats(s) && s.memory == 0; })) << s.memory;
  EXPECT_NE(limited.log().find("event=started"), std::string::npos);
  EXPECT_NE(limited.log().find("memory_budget=10485760"), std::string::npos) << limited.log();
  EXPECT_EQ(limited.stop(), 0);
}

// What a model holds beyond its file and tensors (here the weights XNNPACK
// packs for 16 units, 16 times the file's) is charged too: a budget that
// counted the file and the tensors alone admitted models holding twice
// that (pose_landmark_heavy held 78 MB, charged 37).
TEST_F(ReliabilityTest, TheMemoryBudgetChargesTheWeightsBackendsPack) {
  const std::vector<uint8_t> model = one_unit_model(1 << 18);  // 1 MiB of weights, 16 MiB packed
  OwnDaemon limited(socket_);
  ASSERT_TRUE(limited.start({"--max-memory", "12", "--backend", "xnnpack"}));
  larodConnection* c = connect();
  RawClient raw(limited.socket());
  ASSERT_TRUE(raw.hello());
  int code = 0;
  const std::string error = load_error(c, limited.path("fc.tflite"), model, "cpu-tflite", &code);
  EXPECT_EQ(code, LAROD_ERROR_LOAD_MODEL);
  EXPECT_NE(error.find("the loaded model (working tensors, packed weights) needs 1"), std::string::npos)
      << error;
  EXPECT_NE(error.find("of its 12.0 MiB memory budget left (--max-memory)"), std::string::npos) << error;
  RawClient::Stats s;
  ASSERT_TRUE(raw.stats(s));
  EXPECT_EQ(s.memory, 0u) << "a refused model holds nothing";
  larodDisconnect(&c, nullptr);
  EXPECT_EQ(limited.stop(), 0);

  OwnDaemon roomy(socket_);
  ASSERT_TRUE(roomy.start({"--max-memory", "64", "--backend", "xnnpack"}));
  c = connect();
  RawClient raw2(roomy.socket());
  ASSERT_TRUE(raw2.hello());
  EXPECT_EQ(load_error(c, roomy.path("fc.tflite"), model, "cpu-tflite"), "");
  ASSERT_TRUE(raw2.stats(s));
  EXPECT_GE(s.memory, 16u << 20) << "charged " << s.memory << " for " << model.size() << " bytes of file";
  EXPECT_LE(s.memory, 24u << 20);
  EXPECT_NE(roomy.log().find("memory=" + std::to_string(s.memory)), std::string::npos) << roomy.log();
  larodDisconnect(&c, nullptr);
  EXPECT_EQ(roomy.stop(), 0);
}

// Two clients loading the same bytes at once get one executable and one
// charge: loads take turns from reading the file on, so the second finds the
// first's model.
TEST_F(ReliabilityTest, TheSameModelLoadedByTwoClientsAtOnceIsPreparedOnce) {
  OwnDaemon own(socket_);
  ASSERT_TRUE(own.start({"--backend", "xnnpack"}));
  const std::string path = own.path("fc.tflite");
  write_file(path, one_unit_model(1 << 18));  // packing its weights takes milliseconds
  larodConnection* clients[2] = {connect(), connect()};
  larodModel* models[2] = {nullptr, nullptr};
  std::atomic<int> ready{0};
  const auto load = [&](int i) {
    Err e;
    const larodDevice* dev = larodGetDevice(clients[i], "cpu-tflite", 0, &e);
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    ready++;
    while (ready.load() < 2) std::this_thread::yield();
    models[i] = larodLoadModel(clients[i], fd, dev, LAROD_ACCESS_PRIVATE, "fc", nullptr, &e);
    ::close(fd);
    EXPECT_NE(models[i], nullptr) << e.msg();
  };
  std::thread first(load, 0), second(load, 1);
  first.join();
  second.join();
  const std::string log = own.log();
  const auto count = [&log](const std::string& text) {
    size_t n = 0;
    for (size_t at = log.find(text); at != std::string::npos; at = log.find(text, at + 1)) ++n;
    return n;
  };
  EXPECT_EQ(count("shared=no"), 1u) << log;
  EXPECT_EQ(count("shared=yes"), 1u) << log;
  for (int i = 0; i < 2; ++i) {
    larodDestroyModel(&models[i]);
    larodDisconnect(&clients[i], nullptr);
  }
  EXPECT_EQ(own.stop(), 0);
}

// ---- File descriptors -----------------------------------------------------------

TEST_F(ReliabilityTest, TensorsNeverTakeTheDescriptorsSessionsNeed) {
  // RLIMIT_NOFILE 96, 4 sessions: 64 + 2 x 4 descriptors are kept for the
  // daemon and its sessions, 24 are left for tensors.
  OwnDaemon limited(socket_);
  ASSERT_TRUE(limited.start({"--max-sessions", "4", "--backend", "ref"}, 96));
  EXPECT_NE(limited.log().find("fd_limit=96"), std::string::npos) << limited.log();
  larodConnection* a = connect();
  larodModel* model = load_tiny(a);
  ASSERT_NE(model, nullptr);
  std::vector<larodTensor**> held;
  Err e;
  for (int i = 0; i < 40; ++i) {
    size_t n = 0;
    larodTensor** t = larodAllocModelInputs(a, model, 0, &n, nullptr, &e);
    if (!t) break;
    held.push_back(t);
  }
  EXPECT_EQ(held.size(), 24u);
  EXPECT_EQ(e.code(), LAROD_ERROR_ALLOC);
  EXPECT_NE(
      e.msg().find("ospreyd's tensors hold 24 file descriptors, all it may give them (RLIMIT_NOFILE 96"),
      std::string::npos)
      << e.msg();
  e.clear();
  // Tracking a descriptor is refused the same way.
  {
    const int fd = make_memfd(200);
    size_t n = 0;
    larodTensor** t = larodCreateModelInputs(model, &n, &e);
    ASSERT_NE(t, nullptr) << e.msg();
    ASSERT_TRUE(larodSetTensorFd(t[0], fd, &e));
    EXPECT_FALSE(larodTrackTensor(a, t[0], &e));
    EXPECT_EQ(e.code(), LAROD_ERROR_FD);
    EXPECT_NE(e.msg().find("file descriptors"), std::string::npos) << e.msg();
    e.clear();
    larodDestroyTensors(a, &t, n, nullptr);
    ::close(fd);
  }
  // Another client still connects (its session's descriptors were kept), but
  // the tensors' share is the daemon's, not a session's: it has to wait.
  larodConnection* b = connect();
  ASSERT_NE(b, nullptr);
  larodModel* mine = load_tiny(b);
  ASSERT_NE(mine, nullptr);
  {
    size_t n = 0;
    EXPECT_EQ(larodAllocModelInputs(b, mine, 0, &n, nullptr, &e), nullptr);
    EXPECT_EQ(e.code(), LAROD_ERROR_ALLOC);
    e.clear();
  }
  // Freed tensors give their descriptors back.
  for (auto* t : held) larodDestroyTensors(a, &t, 1, nullptr);
  expect_tiny_works(*this, b, mine);
  larodDestroyModel(&mine);
  larodDisconnect(&b, nullptr);
  larodDestroyModel(&model);
  larodDisconnect(&a, nullptr);
  EXPECT_TRUE(limited.alive());
  EXPECT_EQ(limited.stop(), 0);
}

// Sessions allocating at once never take more than the tensors' share
// together: the share is checked and taken in one step. Without that, two
// sessions could both see one descriptor left and both take it.
TEST_F(ReliabilityTest, SessionsAllocatingAtOnceStayWithinTheDescriptorsShare) {
  // As above: RLIMIT_NOFILE 96 and 4 sessions leave 24 descriptors for tensors.
  OwnDaemon limited(socket_);
  ASSERT_TRUE(limited.start({"--max-sessions", "4", "--backend", "ref"}, 96));
  constexpr int kClients = 4;
  larodConnection* clients[kClients];
  larodModel* models[kClients];
  for (int i = 0; i < kClients; ++i) {
    clients[i] = connect();
    models[i] = load_tiny(clients[i]);
    ASSERT_NE(models[i], nullptr);
  }
  std::barrier sync(kClients);
  std::atomic<size_t> held_total{0};
  const auto client = [&](int i) {
    for (int round = 0; round < 20; ++round) {
      std::vector<larodTensor**> held;
      sync.arrive_and_wait();
      for (;;) {
        size_t n = 0;
        Err e;
        larodTensor** t = larodAllocModelInputs(clients[i], models[i], 0, &n, nullptr, &e);
        if (!t) {
          EXPECT_EQ(e.code(), LAROD_ERROR_ALLOC) << e.msg();
          break;
        }
        held.push_back(t);
      }
      held_total += held.size();
      sync.arrive_and_wait();  // every client has been refused: the share is full
      if (i == 0) {
        EXPECT_EQ(held_total.load(), 24u) << "round " << round;
        held_total = 0;
      }
      sync.arrive_and_wait();
      for (auto* t : held) larodDestroyTensors(clients[i], &t, 1, nullptr);
    }
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) threads.emplace_back(client, i);
  for (auto& t : threads) t.join();
  for (int i = 0; i < kClients; ++i) {
    larodDestroyModel(&models[i]);
    larodDisconnect(&clients[i], nullptr);
  }
  EXPECT_EQ(limited.stop(), 0);
}

TEST_F(ReliabilityTest, ADaemonOutOfDescriptorsRefusesNewClientsAtOnce) {
  // RLIMIT_NOFILE 16: a few sessions (a socket and an eventfd each) use up
  // what the daemon has. The next client's connection is closed at once (it
  // would otherwise wait for a HELLO reply while the daemon spun on accept).
  OwnDaemon limited(socket_);
  ASSERT_TRUE(limited.start({"--max-sessions", "100"}, 16));
  std::vector<larodConnection*> clients;
  Err e;
  for (int i = 0; i < 16; ++i) {
    larodConnection* c = nullptr;
    if (!larodConnect(&c, &e)) break;
    clients.push_back(c);
  }
  EXPECT_LT(clients.size(), 16u);
  EXPECT_GE(clients.size(), 1u);
  EXPECT_EQ(e.code(), LAROD_ERROR_CONNECTION) << e.msg();
  EXPECT_TRUE(eventually([&] {
    return limited.log().find("reason=\"out of file descriptors\"") != std::string::npos;
  })) << limited.log();
  EXPECT_TRUE(limited.alive());
  // A client that leaves makes room again.
  larodDisconnect(&clients.back(), nullptr);
  clients.pop_back();
  larodConnection* late = nullptr;
  EXPECT_TRUE(eventually([&] { return larodConnect(&late, nullptr); }));
  clients.push_back(late);
  for (auto* c : clients) larodDisconnect(&c, nullptr);
  EXPECT_EQ(limited.stop(), 0);
}

// ---- Restart while clients wait ----------------------------------------------------

struct Waiter {
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int code = 0;
};

void on_waiter(void* user, larodError* error) {
  auto* w = static_cast<Waiter*>(user);
  std::lock_guard<std::mutex> lock(w->mu);
  w->done = true;
  w->code = error ? static_cast<int>(error->code) : 0;
  w->cv.notify_all();
}

TEST_F(ReliabilityTest, DaemonRestartWhileClientsWait) {
  larodConnection* c = connect();
  larodModel* m = load_tiny(c);
  Err e;
  size_t n;
  larodTensor** in = larodAllocModelInputs(c, m, 0, &n, nullptr, &e);
  larodTensor** out = larodAllocModelOutputs(c, m, 0, &n, nullptr, &e);
  larodJobRequest* req = larodCreateJobRequest(m, in, 1, out, 1, nullptr, &e);
  ASSERT_NE(req, nullptr);
  {
    RawClient raw(socket_);
    ASSERT_TRUE(raw.hello());
    ASSERT_EQ(raw.device_hook(Msg::kTestPauseDevice), 0);
    Waiter async;
    ASSERT_TRUE(larodRunJobAsync(c, req, on_waiter, &async, &e));
    auto sync = std::async(std::launch::async, [&] {
      Err se;
      bool ok = larodRunJob(c, req, &se);
      return std::make_pair(ok, se.code());
    });
    RawClient::Stats s;
    ASSERT_TRUE(eventually([&] { return raw.stats(s) && s.queued == 2; }));  // both clients' jobs wait
    daemon_.kill9();
    ASSERT_EQ(sync.wait_for(std::chrono::seconds(30)), std::future_status::ready) << "a client hung";
    auto [ok, code] = sync.get();
    EXPECT_FALSE(ok);
    EXPECT_EQ(code, LAROD_ERROR_CONNECTION);
    std::unique_lock<std::mutex> lock(async.mu);
    ASSERT_TRUE(async.cv.wait_for(lock, std::chrono::seconds(30), [&] { return async.done; }));
    EXPECT_EQ(async.code, LAROD_ERROR_CONNECTION);
  }
  // Every later call on the dead connection fails at once.
  EXPECT_FALSE(larodRunJob(c, req, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_CONNECTION);
  EXPECT_NE(e.msg().find("ospreyd closed the connection"), std::string::npos) << e.msg();
  e.clear();
  uint64_t sessions;
  EXPECT_FALSE(larodGetNumSessions(c, &sessions, &e));
  e.clear();

  // A new daemon takes over the stale socket; clients reconnect.
  ASSERT_TRUE(daemon_.start(socket_, log_)) << daemon_.log();
  larodConnection* c2 = connect();
  ASSERT_NE(c2, nullptr);
  larodModel* m2 = load_tiny(c2);
  expect_tiny_works(*this, c2, m2);
  larodDestroyModel(&m2);
  larodDisconnect(&c2, nullptr);

  larodDestroyJobRequest(&req);
  EXPECT_TRUE(larodDestroyTensors(c, &in, 1, &e)) << e.msg();
  EXPECT_TRUE(larodDestroyTensors(c, &out, 1, &e)) << e.msg();
  larodDestroyModel(&m);
  EXPECT_TRUE(larodDisconnect(&c, &e));
}

TEST_F(ReliabilityTest, NoDaemonIsAConnectionError) {
  daemon_.stop();
  larodConnection* c = nullptr;
  Err e;
  EXPECT_FALSE(larodConnect(&c, &e));
  EXPECT_EQ(c, nullptr);
  EXPECT_EQ(e.code(), LAROD_ERROR_CONNECTION);
  EXPECT_NE(e.msg().find(socket_), std::string::npos) << e.msg();
}

// ---- The socket itself ---------------------------------------------------------------

TEST_F(ReliabilityTest, SocketIsOwnerAndGroupOnly) {
  struct stat st;
  ASSERT_EQ(::lstat(socket_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0660u);
  // A second daemon on the same socket refuses to start instead of stealing it.
  Daemon second;
  TempDir other;
  second.start(socket_, other.path() + "/second.log", {});  // "starts" at once: the first one answers
  EXPECT_TRUE(eventually([&] { return second.exited(); }));
  EXPECT_NE(second.stop(), 0);
  EXPECT_NE(read_file(other.path() + "/second.log").find("another ospreyd is already listening"),
            std::string::npos);
  EXPECT_TRUE(daemon_.can_connect());
}

TEST_F(ReliabilityTest, SessionLimitRefusesExtraClients) {
  OwnDaemon limited(socket_);
  ASSERT_TRUE(limited.start({"--max-sessions", "2"}));
  // The start-up probe of Daemon::start is a session too until ospreyd sees it
  // close; retry until both fit.
  larodConnection* a = connect();
  ASSERT_NE(a, nullptr);
  larodConnection* b = nullptr;
  ASSERT_TRUE(eventually([&] { return larodConnect(&b, nullptr); }));
  larodConnection* c = nullptr;
  Err e;
  EXPECT_FALSE(larodConnect(&c, &e));
  EXPECT_EQ(e.code(), LAROD_ERROR_CONNECTION);
  e.clear();
  larodDisconnect(&a, nullptr);
  EXPECT_TRUE(eventually([&] {
    if (!larodConnect(&c, nullptr)) return false;
    return true;
  }));
  larodDisconnect(&c, nullptr);
  larodDisconnect(&b, nullptr);
  EXPECT_EQ(limited.stop(), 0);
}

}  // namespace
}  // namespace osprey::service::testing
