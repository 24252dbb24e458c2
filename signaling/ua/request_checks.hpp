// Checks a UAS applies to a request before acting on it (RFC 3261 §8.2), each turned into the
// response that says what is wrong: 405/501 method, 416 scheme, 420 extension, 415 type, 406 Accept.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "signaling/message/sip_message.hpp"

namespace chorus::sip {

// What this UAS implements; these lists fill Allow, Supported and Accept (§20.5, §20.37, §20.1).
inline constexpr std::string_view kAllowedMethods = "INVITE, ACK, BYE, CANCEL, OPTIONS, INFO, UPDATE";
inline constexpr std::string_view kSupportedExtensions = "timer";
inline constexpr std::string_view kAcceptedBodies = "application/sdp";

struct Rejection {
  int status;
  std::string reason;
  std::vector<Header> headers;  // Allow, Unsupported, Accept as the status requires
};

bool is_supported_method(std::string_view method);
// Whether an option tag (§19.2) is one of kSupportedExtensions.
bool is_supported_extension(std::string_view option_tag);
// Methods RFC 3261 and its common extensions define; others are unknown → 501 (§8.2.1).
bool is_known_method(std::string_view method);

// Methods the layers above take through UserAgent::add_method_handler (method_handler.hpp), each
// with the body media types it accepts (lower-case), and the Allow value that lists them too.
struct ExtensionMethods {
  std::map<std::string, std::vector<std::string>, std::less<>> accepted_bodies;
  std::string allow{kAllowedMethods};
};

// §8.2.1–§8.2.3 in order: method, Request-URI scheme, Require, Content-Type/Encoding, Accept. An
// extension method's body must be one of its accepted types (415 with them in Accept).
std::optional<Rejection> check_request(const SipMessage& request, const ExtensionMethods& extensions = {});

// The value of a Content-Type header without parameters, lower-cased ("application/sdp").
std::string media_type_of(const SipMessage& message);

// The SDP part of a body: the body itself for application/sdp, or the application/sdp part of a
// multipart/mixed or multipart/alternative body (RFC 5621). nullopt when there is none.
std::optional<std::string> sdp_body_of(const SipMessage& message);

// RFC 6086 §5.2.2: the Info Package names of the request's Recv-Info headers, lower-cased, at most 16
// (user_agent_info.cpp).
std::vector<std::string> recv_info_packages(const SipMessage& message);

}  // namespace chorus::sip
