#include "signaling/transport/ws_connection.hpp"

#include <boost/asio/ssl/stream.hpp>
#include <utility>

#include "signaling/transport/ws_session.hpp"

namespace chorus::sip {

using boost::asio::ip::tcp;

std::shared_ptr<TransportConnection> make_ws_connection(const PeerAddress& peer, tcp::socket socket,
                                                        std::shared_ptr<boost::asio::ssl::context> tls,
                                                        ConnectionEvents& events, WsOptions options) {
  if (tls) {
    boost::asio::ssl::context& context = *tls;
    return std::make_shared<WsSession<boost::asio::ssl::stream<tcp::socket>>>(
        peer, events, std::move(options), std::move(tls), std::move(socket), context);
  }
  return std::make_shared<WsSession<tcp::socket>>(peer, events, std::move(options), nullptr, std::move(socket));
}

}  // namespace chorus::sip
