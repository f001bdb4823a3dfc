// The client connection (src/service/client/connection.h) over a socketpair,
// against a fake daemon: replies out of order, concurrent callers, async
// completions, a daemon that answers wrongly or goes away.
#include "service/client/connection.h"

#include <gtest/gtest.h>
#include <sys/socket.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>
#include <vector>

namespace osprey::service::client {
namespace {

// The daemon's end of the socketpair, driven by the test.
class FakePeer {
 public:
  explicit FakePeer(UniqueFd sock) : sock_(std::move(sock)) {
    timeval tv{10, 0};  // a bound on every read: a broken client fails the test instead of hanging it
    ::setsockopt(sock_.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  }
  bool recv(Message& m) {
    std::string error;
    return recv_message(sock_.get(), m, error) == RecvResult::kOk;
  }
  template <class Body>
  void reply_ok(const Message& req, const Body& body, uint16_t type_override = 0) {
    const uint16_t type = type_override ? type_override : static_cast<uint16_t>(req.header.type | kReplyBit);
    ASSERT_EQ(send_message(sock_.get(), type, req.header.id, encode_ok_reply(body), nullptr, 0), 0);
  }
  void reply_status(const Message& req, int32_t status, const std::string& text) {
    ASSERT_EQ(send_message(sock_.get(), static_cast<uint16_t>(req.header.type | kReplyBit), req.header.id,
                           encode_status_reply(status, text), nullptr, 0),
              0);
  }
  void close() { sock_.reset(); }

 private:
  UniqueFd sock_;
};

struct Pair {
  Connection* conn = nullptr;
  std::unique_ptr<FakePeer> peer;
  Pair() {
    int sv[2];
    EXPECT_EQ(::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
    conn = new Connection(UniqueFd(sv[0]));
    conn->start();
    peer = std::make_unique<FakePeer>(UniqueFd(sv[1]));
  }
  ~Pair() {
    if (conn) Connection::destroy(conn, "test over");
  }
};

std::vector<uint8_t> payload_of(const NumSessionsReply& r) {
  Writer w;
  r.write(w);
  return w.bytes();
}

TEST(ConnectionTest, SynchronousCallGetsItsReply) {
  Pair p;
  std::thread daemon([&] {
    Message m;
    ASSERT_TRUE(p.peer->recv(m));
    EXPECT_EQ(m.header.type, static_cast<uint16_t>(Msg::kNumSessions));
    p.peer->reply_ok(m, NumSessionsReply{7});
  });
  Message reply;
  std::string failure;
  ASSERT_TRUE(p.conn->call(Msg::kNumSessions, {}, {}, reply, failure)) << failure;
  daemon.join();
  Reader r = reply.reader();
  EXPECT_EQ(ReplyStatus::read(r).status, wire::kOk);
  EXPECT_EQ(decode<NumSessionsReply>(r).sessions, 7u);
}

TEST(ConnectionTest, RepliesOutOfOrderReachTheirCallers) {
  Pair p;
  constexpr int kCallers = 8;
  std::thread daemon([&] {
    std::vector<Message> requests(kCallers);
    for (auto& m : requests) ASSERT_TRUE(p.peer->recv(m));
    // Answer last-first; each reply carries its request id as the count.
    for (int i = kCallers - 1; i >= 0; --i)
      p.peer->reply_ok(requests[i], NumSessionsReply{requests[i].header.id});
  });
  std::vector<std::thread> callers;
  std::atomic<int> right{0};
  for (int i = 0; i < kCallers; ++i) {
    callers.emplace_back([&] {
      Message reply;
      std::string failure;
      if (!p.conn->call(Msg::kNumSessions, {}, {}, reply, failure)) return;
      Reader r = reply.reader();
      ReplyStatus::read(r);
      if (decode<NumSessionsReply>(r).sessions == reply.header.id) right++;
    });
  }
  for (auto& t : callers) t.join();
  daemon.join();
  EXPECT_EQ(right.load(), kCallers);
}

TEST(ConnectionTest, AsyncCompletionRunsOnTheCallbackThreadAndMayCallAgain) {
  Pair p;
  std::thread daemon([&] {
    Message job, nested;
    ASSERT_TRUE(p.peer->recv(job));
    p.peer->reply_status(job, wire::kErrJob, "no luck");
    ASSERT_TRUE(p.peer->recv(nested));  // the completion's own synchronous call
    p.peer->reply_ok(nested, NumSessionsReply{3});
  });
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  int32_t status = 0;
  uint64_t nested_sessions = 0;
  std::string failure;
  ASSERT_TRUE(p.conn->call_async(
      Msg::kRunJob, {}, {},
      [&](const Message* reply, const std::string&) {
        Reader r = reply->reader();
        const int32_t s = ReplyStatus::read(r).status;
        Message again;
        std::string why;
        uint64_t n = 0;
        if (p.conn->call(Msg::kNumSessions, {}, {}, again, why)) {
          Reader r2 = again.reader();
          ReplyStatus::read(r2);
          n = decode<NumSessionsReply>(r2).sessions;
        }
        std::lock_guard<std::mutex> lock(mu);
        status = s;
        nested_sessions = n;
        done = true;
        cv.notify_all();
      },
      failure));
  std::unique_lock<std::mutex> lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return done; }));
  lock.unlock();
  daemon.join();
  EXPECT_EQ(status, wire::kErrJob);
  EXPECT_EQ(nested_sessions, 3u);
}

TEST(ConnectionTest, DaemonGoingAwayFailsEveryWaiterAndLaterCalls) {
  Pair p;
  std::atomic<int> async_failures{0};
  std::string failure;
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(p.conn->call_async(
        Msg::kRunJob, {}, {},
        [&](const Message* reply, const std::string& why) {
          if (!reply && why.find("closed the connection") != std::string::npos) async_failures++;
        },
        failure));
  }
  std::thread daemon([&] {
    Message m;
    for (int i = 0; i < 4; ++i) ASSERT_TRUE(p.peer->recv(m));
    p.peer->close();
  });
  Message reply;
  EXPECT_FALSE(p.conn->call(Msg::kNumSessions, {}, {}, reply, failure));
  EXPECT_NE(failure.find("closed the connection"), std::string::npos) << failure;
  daemon.join();
  EXPECT_TRUE(p.conn->broken());
  EXPECT_FALSE(p.conn->call(Msg::kNumSessions, {}, {}, reply, failure));
  for (int i = 0; i < 1000 && async_failures.load() < 3; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(async_failures.load(), 3);
}

TEST(ConnectionTest, ReplyOfTheWrongTypeFailsTheCallOnly) {
  Pair p;
  std::thread daemon([&] {
    Message m;
    ASSERT_TRUE(p.peer->recv(m));
    p.peer->reply_ok(m, NumSessionsReply{1}, static_cast<uint16_t>(Msg::kStats) | kReplyBit);
    ASSERT_TRUE(p.peer->recv(m));
    p.peer->reply_ok(m, NumSessionsReply{2});
  });
  Message reply;
  std::string failure;
  EXPECT_FALSE(p.conn->call(Msg::kNumSessions, {}, {}, reply, failure));
  EXPECT_NE(failure.find("unexpected message type"), std::string::npos) << failure;
  EXPECT_TRUE(p.conn->call(Msg::kNumSessions, {}, {}, reply, failure)) << failure;
  daemon.join();
  EXPECT_EQ(reply.payload, encode_ok_reply(NumSessionsReply{2}));
  EXPECT_EQ(payload_of(NumSessionsReply{2}).size(), 8u);
}

TEST(ConnectionTest, DestroyFromACompletionDeletesAfterItReturns) {
  auto* p = new Pair();
  std::atomic<bool> returned{false};
  std::thread daemon([&] {
    Message m;
    ASSERT_TRUE(p->peer->recv(m));
    p->peer->reply_ok(m, NoFields{});
  });
  std::string failure;
  Connection* conn = p->conn;
  p->conn = nullptr;  // the completion owns it now
  ASSERT_TRUE(conn->call_async(
      Msg::kRunJob, {}, {},
      [&, conn](const Message*, const std::string&) {
        Connection::destroy(conn, "closed from a completion");
        returned = true;
      },
      failure));
  daemon.join();
  for (int i = 0; i < 1000 && !returned.load(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_TRUE(returned.load());
  delete p;  // the peer; the connection deletes itself (ASan checks it happens once)
}

TEST(ConnectionTest, OversizeRequestFailsWithoutBreakingTheConnection) {
  Pair p;
  std::string failure;
  Message reply;
  EXPECT_FALSE(p.conn->call(Msg::kHello, std::vector<uint8_t>(kMaxMessage), {}, reply, failure));
  EXPECT_NE(failure.find("too large"), std::string::npos) << failure;
  EXPECT_FALSE(p.conn->broken());
}

}  // namespace
}  // namespace osprey::service::client
