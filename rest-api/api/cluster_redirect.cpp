#include "rest-api/api/cluster_redirect.hpp"

#include <string>

namespace chorus::rest {

namespace http = boost::beast::http;

std::string redirect_location(std::string_view node_url, std::string_view request_target) {
  while (!node_url.empty() && node_url.back() == '/') node_url.remove_suffix(1);
  return std::string(node_url) + std::string(request_target);
}

std::optional<HttpResponse> conference_elsewhere(const ApiServices& services, const RequestContext& context,
                                                 std::string_view room_id) {
  if (!services.conference_node_url || services.conference.participants_in(room_id) > 0) return std::nullopt;
  const auto node_url = services.conference_node_url(room_id);
  if (!node_url || node_url->empty()) return std::nullopt;
  auto response = HttpResponse::empty(http::status::temporary_redirect);
  const auto target = context.request.message.target();
  response.message.set(http::field::location,
                       redirect_location(*node_url, std::string_view(target.data(), target.size())));
  return response;
}

}  // namespace chorus::rest
