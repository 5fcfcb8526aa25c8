// tests/resp/resp_client.hpp — a minimal blocking RESP2 client for the
// integration tests: sends commands (pipelined if sent before reading) and
// reads whole replies, whatever their type. Test code only: it trusts the
// server to speak RESP and throws if the connection ends mid-reply.
#pragma once

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>
#include <stdexcept>
#include <string>
#include <vector>

namespace strata::testing {

struct reply {
  char type = 0;     // '+', '-', ':', '$', '*'; 0: the server closed the connection
  std::string text;  // the line, the integer or the bulk string
  bool null = false;
  std::vector<reply> elements;
};

class resp_client {
 public:
  explicit resp_client(unsigned short port) : socket_(ctx_) {
    socket_.connect({boost::asio::ip::make_address("127.0.0.1"), port});
  }

  void send(const std::vector<std::string>& command) {
    std::string frame = "*" + std::to_string(command.size()) + "\r\n";
    for (const auto& a : command) frame += "$" + std::to_string(a.size()) + "\r\n" + a + "\r\n";
    send_raw(frame);
  }
  void send_raw(const std::string& bytes) { boost::asio::write(socket_, boost::asio::buffer(bytes)); }

  reply call(const std::vector<std::string>& command) {
    send(command);
    return read();
  }

  reply read() {
    reply r;
    std::string line;
    if (!read_line(line)) return r;  // closed
    r.type = line[0];
    r.text = line.substr(1);
    if (r.type == '$') {
      const long n = std::stol(r.text);
      r.text.clear();
      if (n < 0) {
        r.null = true;
      } else {
        fill(static_cast<std::size_t>(n) + 2);
        r.text = buffer_.substr(0, static_cast<std::size_t>(n));
        buffer_.erase(0, static_cast<std::size_t>(n) + 2);
      }
    } else if (r.type == '*') {
      const long n = std::stol(r.text);
      r.null = n < 0;
      for (long i = 0; i < n; ++i) r.elements.push_back(read());
    }
    return r;
  }

 private:
  bool read_line(std::string& line) {
    for (;;) {
      if (const auto end = buffer_.find("\r\n"); end != std::string::npos) {
        line = buffer_.substr(0, end);
        buffer_.erase(0, end + 2);
        return true;
      }
      if (!read_more()) {
        if (!buffer_.empty()) throw std::runtime_error("connection closed mid-reply");
        return false;
      }
    }
  }
  void fill(std::size_t n) {
    while (buffer_.size() < n) {
      if (!read_more()) throw std::runtime_error("connection closed mid-reply");
    }
  }
  bool read_more() {
    char chunk[65536];
    boost::system::error_code ec;
    const std::size_t n = socket_.read_some(boost::asio::buffer(chunk), ec);
    if (ec) return false;
    buffer_.append(chunk, n);
    return true;
  }

  boost::asio::io_context ctx_;
  boost::asio::ip::tcp::socket socket_;
  std::string buffer_;
};

}  // namespace strata::testing
