// Video offers as the clients that dial a video room write them, for the offer/answer tests.
// Written from what these clients send (layout, attribute order, payload numbers, extension ids);
// ICE credentials, fingerprints, SSRCs and msids are made up.
#pragma once

#include <string>
#include <string_view>

namespace chorus::sdp::test {

// ---- Chrome 120, unified plan, BUNDLE (balanced policy: every section on port 9).

constexpr std::string_view kChromeSession =
    "v=0\r\no=- 8234749156418893203 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"
    "a=group:BUNDLE 0 1 2 3 4 5 6 7 8 9 10\r\na=extmap-allow-mixed\r\n"
    "a=msid-semantic: WMS 5f0a2b9c-3d4e-4f60-8a1b-2c3d4e5f6a7b\r\n";

// ICE and DTLS lines Chrome repeats in every section (before a=mid).
constexpr std::string_view kChromeTransport =
    "c=IN IP4 0.0.0.0\r\na=rtcp:9 IN IP4 0.0.0.0\r\na=ice-ufrag:Hk3f\r\na=ice-pwd:p2xWJ4vUbn2Dk1zdwlT8IJ7O\r\n"
    "a=ice-options:trickle\r\n"
    "a=fingerprint:sha-256 7B:8B:F0:65:5F:78:E2:51:3B:AC:6F:F3:3F:46:1B:35:DC:B8:5F:64:1A:24:C2:43:F0:A1:58:D0:A1:"
    "2C:19:08\r\na=setup:actpass\r\n";

constexpr std::string_view kChromeAudioMLine = "m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126\r\n";
// After kChromeTransport:
constexpr std::string_view kChromeAudioAttributes =
    "a=mid:0\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=sendrecv\r\na=msid:5f0a2b9c-3d4e-4f60-8a1b-2c3d4e5f6a7b 0b6d3a4e-1f2a-4b3c-9d8e-7f6a5b4c3d2e\r\n"
    "a=rtcp-mux\r\na=rtcp-rsize\r\n"
    "a=rtpmap:111 opus/48000/2\r\na=rtcp-fb:111 transport-cc\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"
    "a=rtpmap:63 red/48000/2\r\na=fmtp:63 111/111\r\na=rtpmap:9 G722/8000\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:13 CN/8000\r\na=rtpmap:110 telephone-event/48000\r\n"
    "a=rtpmap:126 telephone-event/8000\r\n"
    "a=ssrc:3735928559 cname:Ezq0pnkvYfq2XrPx\r\n"
    "a=ssrc:3735928559 msid:5f0a2b9c-3d4e-4f60-8a1b-2c3d4e5f6a7b 0b6d3a4e-1f2a-4b3c-9d8e-7f6a5b4c3d2e\r\n";

constexpr std::string_view kChromeVideoMLine =
    "m=video 9 UDP/TLS/RTP/SAVPF 96 97 102 103 104 105 106 107 108 109 127 125 39 40 45 46 98 99 100 101 112 113 "
    "116 117 118\r\n";

// Eleven extensions; we answer 2, 3, 4, 10 and 11.
constexpr std::string_view kChromeVideoExtmaps =
    "a=extmap:14 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:13 urn:3gpp:video-orientation\r\n"
    "a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type\r\n"
    "a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing\r\n"
    "a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space\r\n"
    "a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n";

#define CHROME_FB(pt)                                                                                        \
  "a=rtcp-fb:" pt " goog-remb\r\na=rtcp-fb:" pt " transport-cc\r\na=rtcp-fb:" pt " ccm fir\r\na=rtcp-fb:" pt \
  " nack\r\na=rtcp-fb:" pt " nack pli\r\n"

// VP8; H.264 Baseline and Constrained Baseline in packetization modes 1 and 0, Main, High; AV1;
// VP9 profiles 0 and 2; red and ulpfec. We take 96, 102 and 106 with their rtx 97, 103, 107.
constexpr std::string_view kChromeVideoCodecs =
    "a=rtpmap:96 VP8/90000\r\n" CHROME_FB("96") "a=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n"
    "a=rtpmap:102 H264/90000\r\n" CHROME_FB("102")
    "a=fmtp:102 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f\r\n"
    "a=rtpmap:103 rtx/90000\r\na=fmtp:103 apt=102\r\n"
    "a=rtpmap:104 H264/90000\r\n" CHROME_FB("104")
    "a=fmtp:104 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f\r\n"
    "a=rtpmap:105 rtx/90000\r\na=fmtp:105 apt=104\r\n"
    "a=rtpmap:106 H264/90000\r\n" CHROME_FB("106")
    "a=fmtp:106 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f\r\n"
    "a=rtpmap:107 rtx/90000\r\na=fmtp:107 apt=106\r\n"
    "a=rtpmap:108 H264/90000\r\n" CHROME_FB("108")
    "a=fmtp:108 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f\r\n"
    "a=rtpmap:109 rtx/90000\r\na=fmtp:109 apt=108\r\n"
    "a=rtpmap:127 H264/90000\r\n" CHROME_FB("127")
    "a=fmtp:127 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f\r\n"
    "a=rtpmap:125 rtx/90000\r\na=fmtp:125 apt=127\r\n"
    "a=rtpmap:39 H264/90000\r\n" CHROME_FB("39")
    "a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f\r\n"
    "a=rtpmap:40 rtx/90000\r\na=fmtp:40 apt=39\r\n"
    "a=rtpmap:45 AV1/90000\r\n" CHROME_FB("45") "a=fmtp:45 level-idx=5;profile=0;tier=0\r\n"
    "a=rtpmap:46 rtx/90000\r\na=fmtp:46 apt=45\r\n"
    "a=rtpmap:98 VP9/90000\r\n" CHROME_FB("98") "a=fmtp:98 profile-id=0\r\n"
    "a=rtpmap:99 rtx/90000\r\na=fmtp:99 apt=98\r\n"
    "a=rtpmap:100 VP9/90000\r\n" CHROME_FB("100") "a=fmtp:100 profile-id=2\r\n"
    "a=rtpmap:101 rtx/90000\r\na=fmtp:101 apt=100\r\n"
    "a=rtpmap:112 H264/90000\r\n" CHROME_FB("112")
    "a=fmtp:112 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f\r\n"
    "a=rtpmap:113 rtx/90000\r\na=fmtp:113 apt=112\r\n"
    "a=rtpmap:116 red/90000\r\na=rtpmap:117 rtx/90000\r\na=fmtp:117 apt=116\r\na=rtpmap:118 ulpfec/90000\r\n";

#undef CHROME_FB

// The camera: sendonly, simulcast in three layers (quarter, half, full resolution).
constexpr std::string_view kChromeCameraDirection =
    "a=sendonly\r\na=msid:5f0a2b9c-3d4e-4f60-8a1b-2c3d4e5f6a7b 9c8b7a6f-5e4d-4c3b-8a29-1f0e2d3c4b5a\r\n";
constexpr std::string_view kChromeCameraSimulcast =
    "a=rid:q send\r\na=rid:h send\r\na=rid:f send\r\na=simulcast:send q;h;f\r\n";

// One video section: m=, transport, mid, extensions, direction, rtcp-mux/rsize, codecs, tail.
inline std::string chrome_video_section(int mid, std::string_view direction_lines, std::string_view tail = {}) {
  std::string s(kChromeVideoMLine);
  s += kChromeTransport;
  s += "a=mid:" + std::to_string(mid) + "\r\n";
  s += kChromeVideoExtmaps;
  s += direction_lines;
  s += "a=rtcp-mux\r\na=rtcp-rsize\r\n";
  s += kChromeVideoCodecs;
  s += tail;
  return s;
}

// What the room's web page offers: audio, its camera with simulcast, and nine receive slots.
inline std::string chrome_room_offer() {
  std::string s(kChromeSession);
  s += kChromeAudioMLine;
  s += kChromeTransport;
  s += kChromeAudioAttributes;
  s += chrome_video_section(1, kChromeCameraDirection, kChromeCameraSimulcast);
  for (int mid = 2; mid <= 10; ++mid) s += chrome_video_section(mid, "a=recvonly\r\n");
  return s;
}

// ---- Firefox 121: one sendrecv video transceiver sending simulcast, a=extmap-allow-mixed at
// session level, a playout-delay extension offered recvonly, SSRCs and FID groups for each layer.

constexpr std::string_view kFirefoxOffer =
    "v=0\r\no=mozilla...THIS_IS_SDPARTA-99.0 5089071418867565406 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n"
    "a=fingerprint:sha-256 "
    "1D:8E:72:42:2F:4A:37:2C:92:1B:8F:2B:56:6C:1A:33:2D:A0:34:9B:2B:1C:6E:5C:EE:A0:96:2C:90:2D:68:45\r\n"
    "a=extmap-allow-mixed\r\na=group:BUNDLE 0 1\r\na=ice-options:trickle\r\na=msid-semantic:WMS *\r\n"
    "m=audio 9 UDP/TLS/RTP/SAVPF 109 9 0 8 101\r\nc=IN IP4 0.0.0.0\r\na=sendrecv\r\n"
    "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n"
    "a=extmap:2/recvonly urn:ietf:params:rtp-hdrext:csrc-audio-level\r\n"
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1\r\na=fmtp:101 0-15\r\n"
    "a=ice-pwd:6b1e3f1c0c2d8f7a9e5d4c3b2a190817\r\na=ice-ufrag:5e3b1c2d\r\na=mid:0\r\n"
    "a=msid:{7e2b1c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e} {1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d}\r\n"
    "a=rtcp-mux\r\na=rtpmap:109 opus/48000/2\r\na=rtpmap:9 G722/8000/1\r\na=rtpmap:0 PCMU/8000\r\n"
    "a=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=setup:actpass\r\n"
    "a=ssrc:2658422458 cname:{0c9e4f2a-6b1d-4e3f-9a8b-7c6d5e4f3a2b}\r\n"
    "m=video 9 UDP/TLS/RTP/SAVPF 120 124 121 125 126 127 97 98 123 122 119\r\nc=IN IP4 0.0.0.0\r\n"
    "a=sendrecv\r\n"
    "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid\r\n"
    "a=extmap:4 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n"
    "a=extmap:5 urn:ietf:params:rtp-hdrext:toffset\r\n"
    "a=extmap:6/recvonly http://www.webrtc.org/experiments/rtp-hdrext/playout-delay\r\n"
    "a=extmap:7 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01\r\n"
    "a=extmap:8 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id\r\n"
    "a=extmap:9 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id\r\n"
    "a=fmtp:126 profile-level-id=42e01f;level-asymmetry-allowed=1;packetization-mode=1\r\n"
    "a=fmtp:97 profile-level-id=42e01f;level-asymmetry-allowed=1\r\n"
    "a=fmtp:120 max-fs=12288;max-fr=60\r\na=fmtp:124 apt=120\r\na=fmtp:121 max-fs=12288;max-fr=60\r\n"
    "a=fmtp:125 apt=121\r\na=fmtp:127 apt=126\r\na=fmtp:98 apt=97\r\na=fmtp:119 apt=122\r\n"
    "a=ice-pwd:6b1e3f1c0c2d8f7a9e5d4c3b2a190817\r\na=ice-ufrag:5e3b1c2d\r\na=mid:1\r\n"
    "a=msid:{7e2b1c3d-4f5a-4b6c-8d7e-9f0a1b2c3d4e} {2b3c4d5e-6f7a-4b8c-9d0e-1f2a3b4c5d6e}\r\n"
    "a=rid:h send\r\na=rid:m send\r\na=rid:l send\r\n"
    "a=rtcp-fb:120 nack\r\na=rtcp-fb:120 nack pli\r\na=rtcp-fb:120 ccm fir\r\na=rtcp-fb:120 goog-remb\r\n"
    "a=rtcp-fb:120 transport-cc\r\n"
    "a=rtcp-fb:121 nack\r\na=rtcp-fb:121 nack pli\r\na=rtcp-fb:121 ccm fir\r\na=rtcp-fb:121 goog-remb\r\n"
    "a=rtcp-fb:121 transport-cc\r\n"
    "a=rtcp-fb:126 nack\r\na=rtcp-fb:126 nack pli\r\na=rtcp-fb:126 ccm fir\r\na=rtcp-fb:126 goog-remb\r\n"
    "a=rtcp-fb:126 transport-cc\r\n"
    "a=rtcp-fb:97 nack\r\na=rtcp-fb:97 nack pli\r\na=rtcp-fb:97 ccm fir\r\na=rtcp-fb:97 goog-remb\r\n"
    "a=rtcp-fb:97 transport-cc\r\n"
    "a=rtcp-fb:123 nack\r\na=rtcp-fb:123 nack pli\r\na=rtcp-fb:123 ccm fir\r\na=rtcp-fb:123 goog-remb\r\n"
    "a=rtcp-fb:123 transport-cc\r\n"
    "a=rtcp-mux\r\na=rtcp-rsize\r\n"
    "a=rtpmap:120 VP8/90000\r\na=rtpmap:124 rtx/90000\r\na=rtpmap:121 VP9/90000\r\na=rtpmap:125 rtx/90000\r\n"
    "a=rtpmap:126 H264/90000\r\na=rtpmap:127 rtx/90000\r\na=rtpmap:97 H264/90000\r\na=rtpmap:98 rtx/90000\r\n"
    "a=rtpmap:123 ulpfec/90000\r\na=rtpmap:122 red/90000\r\na=rtpmap:119 rtx/90000\r\n"
    "a=setup:actpass\r\na=simulcast:send h;m;l\r\n"
    "a=ssrc:1404093325 cname:{0c9e4f2a-6b1d-4e3f-9a8b-7c6d5e4f3a2b}\r\n"
    "a=ssrc:2117212356 cname:{0c9e4f2a-6b1d-4e3f-9a8b-7c6d5e4f3a2b}\r\n"
    "a=ssrc:3087441720 cname:{0c9e4f2a-6b1d-4e3f-9a8b-7c6d5e4f3a2b}\r\n"
    "a=ssrc:1727003391 cname:{0c9e4f2a-6b1d-4e3f-9a8b-7c6d5e4f3a2b}\r\n"
    "a=ssrc:2935402017 cname:{0c9e4f2a-6b1d-4e3f-9a8b-7c6d5e4f3a2b}\r\n"
    "a=ssrc:4026531840 cname:{0c9e4f2a-6b1d-4e3f-9a8b-7c6d5e4f3a2b}\r\n"
    "a=ssrc-group:FID 1404093325 1727003391\r\na=ssrc-group:FID 2117212356 2935402017\r\n"
    "a=ssrc-group:FID 3087441720 4026531840\r\n";

// ---- baresip 3.x with the vp8 module: plain RTP/AVP, one sendrecv video line, no rtcp-fb.

constexpr std::string_view kBaresipVideoOffer =
    "v=0\r\no=- 2945566452 1714698394 IN IP4 192.0.2.2\r\ns=-\r\nc=IN IP4 192.0.2.2\r\nt=0 0\r\n"
    "a=tool:baresip 3.10.1\r\n"
    "m=audio 3716 RTP/AVP 0 8 9 96 101\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n"
    "a=rtpmap:9 G722/8000\r\na=rtpmap:96 opus/48000/2\r\na=fmtp:96 stereo=1;sprop-stereo=1\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\na=label:1\r\na=rtcp-rsize\r\n"
    "a=ssrc:2979106551 cname:sip:alice@192.0.2.2:5072\r\na=minptime:20\r\na=ptime:20\r\n"
    "m=video 3718 RTP/AVP 100\r\na=rtpmap:100 VP8/90000\r\na=fmtp:100 max-fs=3600\r\na=sendrecv\r\n"
    "a=label:2\r\na=rtcp-rsize\r\na=ssrc:1382036481 cname:sip:alice@192.0.2.2:5072\r\n";

// ---- A SIP room system (written after a Poly Group Series offer): wideband audio, one H.264
// main video line with High and Baseline profiles ("; "-separated parameters), H.263 and H.261
// fallbacks, session b=AS and video b=TIAS, wildcard rtcp-fb, a=content:main.

constexpr std::string_view kRoomSystemOffer =
    "v=0\r\no=GroupSeries 1700000000 1 IN IP4 192.0.2.50\r\ns=-\r\nc=IN IP4 192.0.2.50\r\nb=AS:2048\r\nt=0 0\r\n"
    "m=audio 49170 RTP/AVP 115 102 9 15 0 8 18 101\r\na=rtpmap:115 G7221/32000\r\na=fmtp:115 bitrate=48000\r\n"
    "a=rtpmap:102 G7221/16000\r\na=fmtp:102 bitrate=32000\r\na=rtpmap:9 G722/8000\r\na=rtpmap:15 G728/8000\r\n"
    "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:18 G729/8000\r\na=fmtp:18 annexb=no\r\n"
    "a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-15\r\na=sendrecv\r\n"
    "m=video 49172 RTP/AVP 109 110 111 96 34 31\r\nb=TIAS:1920000\r\n"
    "a=rtpmap:109 H264/90000\r\n"
    "a=fmtp:109 profile-level-id=640020; max-mbps=245000; max-fs=8192; max-br=2000; packetization-mode=1\r\n"
    "a=rtpmap:110 H264/90000\r\n"
    "a=fmtp:110 profile-level-id=428020; max-mbps=245000; max-fs=8192; max-br=2000; packetization-mode=1\r\n"
    "a=rtpmap:111 H264/90000\r\na=fmtp:111 profile-level-id=428020; max-mbps=245000; max-fs=8192; max-br=2000\r\n"
    "a=rtpmap:96 H263-1998/90000\r\na=fmtp:96 CIF4=1;CIF=1;QCIF=1;SQCIF=1\r\n"
    "a=rtpmap:34 H263/90000\r\na=fmtp:34 CIF4=1;CIF=1;QCIF=1;SQCIF=1\r\na=rtpmap:31 H261/90000\r\n"
    "a=fmtp:31 CIF=1;QCIF=1\r\n"
    "a=rtcp-fb:* ccm fir\r\na=rtcp-fb:* ccm tmmbr\r\na=rtcp-fb:* nack pli\r\n"
    "a=content:main\r\na=label:11\r\na=sendrecv\r\n";

}  // namespace chorus::sdp::test
