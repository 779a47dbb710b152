#include "domain/ids.h"

#include <boost/uuid/random_generator.hpp>
#include <boost/uuid/uuid_io.hpp>

namespace codeq {

std::string NewUuidV4() {
  thread_local boost::uuids::random_generator gen;  // random_generator_pure: getrandom per id
  return boost::uuids::to_string(gen());
}

std::string NewRequestId() {
  thread_local boost::uuids::random_generator_mt19937 gen;  // seeded from the OS once per thread
  const boost::uuids::uuid u = gen();
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (size_t i = 0; i < 16; ++i) {
    out[2 * i] = kHex[u.data[i] >> 4];
    out[2 * i + 1] = kHex[u.data[i] & 15];
  }
  return out;
}

}  // namespace codeq
