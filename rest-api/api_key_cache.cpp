#include "rest-api/api_key_cache.hpp"

namespace chorus::rest {

std::optional<ApiKeyPrincipal> ApiKeyCache::find(const std::string& token_hash) const {
  std::lock_guard lock(mutex_);
  const auto it = by_hash_.find(token_hash);
  if (it == by_hash_.end()) return std::nullopt;
  return it->second;
}

void ApiKeyCache::insert(const std::string& token_hash, const ApiKeyPrincipal& key) {
  std::lock_guard lock(mutex_);
  if (by_hash_.size() >= capacity_ && !by_hash_.contains(token_hash)) by_hash_.clear();
  by_hash_.insert_or_assign(token_hash, key);
}

void ApiKeyCache::clear() {
  std::lock_guard lock(mutex_);
  by_hash_.clear();
}

std::size_t ApiKeyCache::size() const {
  std::lock_guard lock(mutex_);
  return by_hash_.size();
}

std::optional<ApiKeyPrincipal> CachingApiKeyLookup::find_by_hash(const std::string& token_hash) {
  if (auto cached = cache_.find(token_hash)) return cached;
  auto found = store_.find_by_hash(token_hash);
  if (found) cache_.insert(token_hash, *found);
  return found;
}

}  // namespace chorus::rest
