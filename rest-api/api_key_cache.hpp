// ApiKeyCache: API keys found by their token hash, kept in memory so that a request authenticated
// by a key does not read the store each time (issue 13: two SQLite read transactions, with their
// fcntl locks, per GET /v1/rooms). Only keys the store found are kept (an unknown token is looked
// up again each time: the store stays the only source of "yes"), at most `capacity` of them (past
// that, the cache starts again empty: keys are few, hashes of random tokens never enter).
//
// Invalidation: whoever deletes a key calls clear() after the store's delete and before its 204,
// so a deleted key's next request misses and the store answers 401. Keys have no other change
// (no PATCH). A store shared with other nodes (issue 14) must not be cached this way: a key deleted
// elsewhere would not clear this cache (server/rest_host.cpp leaves the cache out there).
//
// CachingApiKeyLookup is the Authenticator's lookup over it: a hit is answered from memory, a miss
// asks the store's lookup and remembers what it found.
//
// Threading: ApiKeyCache is thread-safe (one mutex; the HTTP thread reads it for requests it
// answers itself, router.hpp handle_local). Entries are added only by CachingApiKeyLookup on the
// control loop, where keys are also deleted, so an entry can never be added back after its key's
// delete has cleared the cache.
#pragma once

#include <cstddef>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "rest-api/auth.hpp"

namespace chorus::rest {

class ApiKeyCache {
 public:
  static constexpr std::size_t kDefaultCapacity = 10'000;
  explicit ApiKeyCache(std::size_t capacity = kDefaultCapacity) : capacity_(capacity) {}

  [[nodiscard]] std::optional<ApiKeyPrincipal> find(const std::string& token_hash) const;
  void insert(const std::string& token_hash, const ApiKeyPrincipal& key);
  void clear();
  [[nodiscard]] std::size_t size() const;

 private:
  std::size_t capacity_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, ApiKeyPrincipal> by_hash_;
};

class CachingApiKeyLookup final : public ApiKeyLookup {
 public:
  // Both outlive this.
  CachingApiKeyLookup(ApiKeyLookup& store, ApiKeyCache& cache) : store_(store), cache_(cache) {}
  std::optional<ApiKeyPrincipal> find_by_hash(const std::string& token_hash) override;

 private:
  ApiKeyLookup& store_;
  ApiKeyCache& cache_;
};

}  // namespace chorus::rest
