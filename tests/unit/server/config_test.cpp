#include "server/config.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "server/config_settings.hpp"

namespace chorus::server {
namespace config_test {

using namespace std::chrono_literals;
using Env = std::map<std::string, std::string>;
using ::testing::HasSubstr;
using ::testing::Not;

// Runs load_config over `flags` as if they followed the program name on the command line.
std::expected<LoadResult, std::string> load(std::vector<std::string> flags, const Env& env = {}) {
  std::vector<const char*> argv{"chorusd"};
  for (const std::string& flag : flags) argv.push_back(flag.c_str());
  return load_config(argv, env);
}

std::string error_of(std::vector<std::string> flags, const Env& env = {}) {
  auto result = load(std::move(flags), env);
  EXPECT_FALSE(result.has_value()) << "expected an error, got:\n" << (result ? render_config(*result) : std::string());
  return result ? std::string() : result.error();
}

// A folder under the system temp directory, removed with everything in it at the end of the test.
class ConfigFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    std::random_device seed;
    dir_ = std::filesystem::temp_directory_path() /
           ("chorus-config-test-" + std::to_string(::getpid()) + "-" + std::to_string(seed()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  std::string write(const std::string& name, const std::string& text) {
    const auto path = dir_ / name;
    std::ofstream(path) << text;
    return path.string();
  }
  std::filesystem::path dir_;
};

TEST(Config, DefaultsMatchTheDesign) {
  auto result = load({});
  ASSERT_TRUE(result.has_value()) << result.error();
  const Config& c = result->config;
  EXPECT_EQ(c.data_dir, "./var");
  EXPECT_EQ(c.bind, "0.0.0.0");
  EXPECT_EQ(c.public_ip, "");
  EXPECT_EQ(c.sip_port, 5060);
  EXPECT_EQ(c.sips_port, 5061);
  EXPECT_EQ(c.ws_port, 5066);
  EXPECT_EQ(c.wss_port, 7443);
  EXPECT_TRUE(c.ws_allowed_origins.empty());  // the server's own page, computed at start
  EXPECT_EQ(c.http_port, 8080);
  EXPECT_EQ(c.rtp_ports, (PortRange{20000, 29999}));
  EXPECT_EQ(c.workers, default_worker_count());
  EXPECT_GE(c.workers, 1u);
  EXPECT_LE(c.workers, 256u);
  EXPECT_EQ(c.admin_token, "");
  EXPECT_EQ(c.log_level, LogLevel::kInfo);
  EXPECT_EQ(c.tls_cert, "");
  EXPECT_EQ(c.tls_key, "");
  EXPECT_EQ(c.sip_t1, 500ms);
  EXPECT_EQ(c.sip_t2, 4000ms);
  EXPECT_EQ(c.sip_t4, 5000ms);
  EXPECT_EQ(c.session_expires, 1800s);
  EXPECT_EQ(c.min_se, 90s);
  const std::vector<AudioCodecSetting> codecs{
      {"opus", 48000, 2}, {"G722", 8000, 1}, {"PCMU", 8000, 1}, {"PCMA", 8000, 1}};
  EXPECT_EQ(c.audio_codecs, codecs);
  EXPECT_EQ(c.max_connections_per_ip, 64u);
  EXPECT_EQ(c.tcp_idle_timeout, 120s);
  EXPECT_EQ(c.max_calls, 2000u);
  EXPECT_EQ(c.sip_requests_per_second_per_source, 30u);
  EXPECT_EQ(c.sip_burst_per_source, 60u);
  EXPECT_EQ(c.sip_block_seconds, 60s);
  EXPECT_TRUE(c.sip_trusted_sources.empty());
  EXPECT_EQ(c.max_calls_per_source, 20u);
  EXPECT_EQ(c.max_server_transactions, 0u);
  EXPECT_EQ(effective_max_server_transactions(c), 16000u);
  EXPECT_EQ(c.max_video_slots, 9u);
  EXPECT_EQ(c.max_video_producers, 2u);
  EXPECT_EQ(c.max_producer_kbps, 8000u);
  EXPECT_EQ(c.default_receive_kbps, 2500u);
  EXPECT_EQ(c.shutdown_timeout, 5s);
  EXPECT_EQ(c.pin_entry_timeout, 30s);
  EXPECT_EQ(c.pin_max_failures, 5u);
  EXPECT_EQ(c.pin_room_max_failures, 20u);
  EXPECT_EQ(c.pin_failure_window, 600s);
  EXPECT_EQ(c.pin_lockout, 60s);
  EXPECT_EQ(c.pin_lockout_max, 3600s);
  EXPECT_EQ(c.min_pin_digits, 6u);
  EXPECT_FALSE(result->print_config);
  EXPECT_FALSE(result->help);
  EXPECT_EQ(result->config_file, "");
  for (const SettingSpec& spec : setting_specs())
    EXPECT_EQ(result->sources.at(std::string(spec.key)), Source::kDefault) << spec.key;
}

// Issue 12, REST API exhaustion (docs/security.md "REST API").
TEST(Config, RestExhaustionSettingsHaveDefaultsAndParse) {
  const Config defaults;
  EXPECT_EQ(defaults.http_max_connections, 256u);
  EXPECT_EQ(defaults.http_max_connections_per_ip, 32u);
  EXPECT_EQ(defaults.http_header_timeout, 10s);
  EXPECT_EQ(defaults.http_body_timeout, 30s);
  EXPECT_EQ(defaults.http_max_event_streams_per_key, 4u);
  EXPECT_EQ(defaults.http_max_event_streams, 256u);
  EXPECT_EQ(defaults.http_requests_per_second, 20u);
  EXPECT_EQ(defaults.http_burst, 40u);
  EXPECT_EQ(defaults.http_admin_requests_per_second, 0u) << "the admin token is not limited unless asked";
  EXPECT_EQ(defaults.http_admin_burst, 40u);
  auto result = load({"--http-max-connections-per-ip", "0", "--http-header-timeout", "2",
                      "--http-max-event-streams-per-key=8", "--http-admin-requests-per-second", "50"},
                     {{"CHORUS_HTTP_BURST", "5"}});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.http_max_connections_per_ip, 0u);
  EXPECT_EQ(result->config.http_header_timeout, 2s);
  EXPECT_EQ(result->config.http_max_event_streams_per_key, 8u);
  EXPECT_EQ(result->config.http_admin_requests_per_second, 50u);
  EXPECT_EQ(result->config.http_burst, 5u);
  auto zero_timeout = load({"--http-header-timeout", "0"});
  ASSERT_FALSE(zero_timeout.has_value());
  EXPECT_NE(zero_timeout.error().find("http_header_timeout"), std::string::npos) << zero_timeout.error();
}

// Issue 11, recordings: the cap on recordings running at once (beyond it, POST → 503).
TEST(Config, RecordingsMaxConcurrentIsASettingWithBounds) {
  EXPECT_EQ(Config{}.recordings_max_concurrent, 16u);
  auto flag = load({"--recordings-max-concurrent", "1"});
  ASSERT_TRUE(flag.has_value()) << flag.error();
  EXPECT_EQ(flag->config.recordings_max_concurrent, 1u);
  EXPECT_EQ(flag->origins.at("recordings_max_concurrent"), "flag --recordings-max-concurrent");
  auto env = load({}, {{"CHORUS_RECORDINGS_MAX_CONCURRENT", "1000"}});
  ASSERT_TRUE(env.has_value()) << env.error();
  EXPECT_EQ(env->config.recordings_max_concurrent, 1000u);
  EXPECT_EQ(env->sources.at("recordings_max_concurrent"), Source::kEnv);
  for (const char* refused : {"0", "1001", "-1", "4294967312", "two"}) {
    const std::string error = error_of({"--recordings-max-concurrent", refused});
    EXPECT_THAT(error, HasSubstr("recordings_max_concurrent")) << refused;
    EXPECT_THAT(error, HasSubstr("an integer from 1 to 1000")) << refused;
  }
}

TEST_F(ConfigFileTest, RecordingsMaxConcurrentComesFromTheFile) {
  auto result = load({"--config", write("cap.yaml", "recordings_max_concurrent: 4\n")});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.recordings_max_concurrent, 4u);
  EXPECT_EQ(result->sources.at("recordings_max_concurrent"), Source::kFile);
}

TEST(Config, VideoLimitsAreSettingsWithBounds) {
  auto result = load({"--max-video-slots", "4", "--max-producer-kbps", "3000"});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.max_video_slots, 4u);
  EXPECT_EQ(result->config.max_producer_kbps, 3000u);
  auto too_many = load({"--max-video-slots", "26"});
  ASSERT_FALSE(too_many.has_value());
  EXPECT_NE(too_many.error().find("max_video_slots"), std::string::npos) << too_many.error();
}

TEST(Config, PinSettingsAreSettingsWithBounds) {
  auto result = load({"--pin-entry-timeout", "5", "--pin-max-failures", "3", "--min-pin-digits", "4"});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.pin_entry_timeout, 5s);
  EXPECT_EQ(result->config.pin_max_failures, 3u);
  EXPECT_EQ(result->config.min_pin_digits, 4u);
  auto too_short = load({"--min-pin-digits", "3"});
  ASSERT_FALSE(too_short.has_value());
  EXPECT_NE(too_short.error().find("min_pin_digits"), std::string::npos) << too_short.error();
  auto no_timeout = load({"--pin-entry-timeout", "0"});
  ASSERT_FALSE(no_timeout.has_value());
  EXPECT_NE(no_timeout.error().find("pin_entry_timeout"), std::string::npos) << no_timeout.error();
}

TEST(Config, SipSourceLimitsAreSettings) {
  auto result =
      load({"--sip-requests-per-second-per-source", "5", "--sip-block-seconds", "10", "--sip-trusted-sources",
            "10.0.0.0/8, 2001:db8::/32,127.0.0.2", "--max-calls-per-source", "3", "--max-server-transactions", "500"});
  ASSERT_TRUE(result.has_value()) << result.error();
  const Config& c = result->config;
  EXPECT_EQ(c.sip_requests_per_second_per_source, 5u);
  EXPECT_EQ(c.sip_block_seconds, 10s);
  ASSERT_EQ(c.sip_trusted_sources.size(), 3u);
  EXPECT_EQ(c.sip_trusted_sources[0].to_string(), "10.0.0.0/8");
  EXPECT_EQ(c.max_calls_per_source, 3u);
  EXPECT_EQ(effective_max_server_transactions(c), 500u);
  EXPECT_NE(render_config(*result).find("sip_trusted_sources = 10.0.0.0/8,2001:db8::/32,127.0.0.2/32"),
            std::string::npos)
      << render_config(*result);
  auto bad = load({"--sip-trusted-sources", "10.0.0.0/8,trunk.example.com"});
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().find("sip_trusted_sources"), std::string::npos) << bad.error();
  EXPECT_NE(bad.error().find("trunk.example.com"), std::string::npos) << bad.error();
}

TEST(Config, FlagSetsValueAndRecordsItsSource) {
  auto result = load({"--sip-port", "5070", "--log-level", "debug", "--bind", "::1"});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.sip_port, 5070);
  EXPECT_EQ(result->config.log_level, LogLevel::kDebug);
  EXPECT_EQ(result->config.bind, "::1");
  EXPECT_EQ(result->sources.at("sip_port"), Source::kFlag);
  EXPECT_EQ(result->origins.at("sip_port"), "flag --sip-port");
  EXPECT_EQ(result->sources.at("http_port"), Source::kDefault);
}

TEST(Config, FlagAcceptsKeyEqualsValueForm) {
  auto result = load({"--http-port=9000", "--rtp-ports=30000-30999", "--data-dir=/srv/chorus"});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.http_port, 9000);
  EXPECT_EQ(result->config.rtp_ports, (PortRange{30000, 30999}));
  EXPECT_EQ(result->config.data_dir, "/srv/chorus");
}

TEST(Config, RepeatedFlagLastOneWins) {
  auto result = load({"--workers", "2", "--workers=3"});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.workers, 3u);
}

TEST(Config, EnvironmentVariableSetsValue) {
  auto result = load({}, {{"CHORUS_HTTP_PORT", "9000"},
                          {"CHORUS_SIP_T1", "250"},
                          {"CHORUS_AUDIO_CODECS", "pcmu/8000, opus/48000/2"},
                          {"PATH", "/usr/bin"}});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.http_port, 9000);
  EXPECT_EQ(result->config.sip_t1, 250ms);
  // RFC 4855 §3: names match case-insensitively and are stored in canonical spelling.
  const std::vector<AudioCodecSetting> codecs{{"PCMU", 8000, 1}, {"opus", 48000, 2}};
  EXPECT_EQ(result->config.audio_codecs, codecs);
  EXPECT_EQ(result->sources.at("http_port"), Source::kEnv);
  EXPECT_EQ(result->origins.at("http_port"), "env CHORUS_HTTP_PORT");
}

TEST_F(ConfigFileTest, FileSetsValuesFromFlatMapping) {
  const std::string path = write("chorus.yaml",
                                 "# chorus test config\n"
                                 "sip_port: 5080\n"
                                 "public_ip: 192.0.2.10\n"
                                 "audio_codecs: [PCMA/8000, G722/8000]\n"
                                 "admin_token: abcdefghijklmnop0123\n");
  auto result = load({"--config", path});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.sip_port, 5080);
  EXPECT_EQ(result->config.public_ip, "192.0.2.10");
  const std::vector<AudioCodecSetting> codecs{{"PCMA", 8000, 1}, {"G722", 8000, 1}};
  EXPECT_EQ(result->config.audio_codecs, codecs);
  EXPECT_EQ(result->config.admin_token, "abcdefghijklmnop0123");
  EXPECT_EQ(result->config_file, path);
  EXPECT_EQ(result->sources.at("sip_port"), Source::kFile);
  EXPECT_EQ(result->origins.at("sip_port"), "file " + path + ":2");
  EXPECT_EQ(result->sources.at("config"), Source::kFlag);
}

TEST_F(ConfigFileTest, ConfigFileCanComeFromEnvironment) {
  const std::string path = write("env.yaml", "max_calls: 10\n");
  auto result = load({}, {{"CHORUS_CONFIG", path}});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.max_calls, 10u);
  EXPECT_EQ(result->sources.at("config"), Source::kEnv);
}

TEST_F(ConfigFileTest, EmptyFileSetsNothing) {
  auto result = load({"--config", write("empty.yaml", "")});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.sip_port, 5060);
}

TEST_F(ConfigFileTest, PrecedenceIsFlagThenEnvThenFileThenDefault) {
  const std::string path = write("p.yaml", "sip_port: 5001\nws_port: 5002\nhttp_port: 5003\n");
  const Env env{{"CHORUS_SIP_PORT", "6001"}, {"CHORUS_WS_PORT", "6002"}};
  auto result = load({"--config", path, "--sip-port", "7001"}, env);
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.sip_port, 7001);   // flag beats env and file
  EXPECT_EQ(result->config.ws_port, 6002);    // env beats file
  EXPECT_EQ(result->config.http_port, 5003);  // file beats default
  EXPECT_EQ(result->config.sips_port, 5061);  // default
  EXPECT_EQ(result->sources.at("sip_port"), Source::kFlag);
  EXPECT_EQ(result->sources.at("ws_port"), Source::kEnv);
  EXPECT_EQ(result->sources.at("http_port"), Source::kFile);
  EXPECT_EQ(result->sources.at("sips_port"), Source::kDefault);
}

TEST_F(ConfigFileTest, ConfigFlagBeatsConfigEnvironmentVariable) {
  const std::string from_flag = write("flag.yaml", "max_calls: 1\n");
  const std::string from_env = write("env.yaml", "max_calls: 2\n");
  auto result = load({"--config=" + from_flag}, {{"CHORUS_CONFIG", from_env}});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.max_calls, 1u);
}

TEST(Config, UnknownFlagIsNamedWithSuggestion) {
  const std::string error = error_of({"--sip-prot", "5060"});
  EXPECT_THAT(error, HasSubstr("unknown flag --sip-prot"));
  EXPECT_THAT(error, HasSubstr("did you mean --sip-port?"));
}

TEST(Config, UnknownChorusEnvironmentVariableIsNamed) {
  const std::string error = error_of({}, {{"CHORUS_SIP_PROT", "5060"}});
  EXPECT_THAT(error, HasSubstr("CHORUS_SIP_PROT"));
  EXPECT_THAT(error, HasSubstr("did you mean CHORUS_SIP_PORT?"));
  // --print-config is a flag only, so it has no variable.
  EXPECT_THAT(error_of({}, {{"CHORUS_PRINT_CONFIG", "1"}}), HasSubstr("CHORUS_PRINT_CONFIG"));
}

TEST(Config, OtherEnvironmentVariablesAreIgnored) {
  EXPECT_TRUE(load({}, {{"HOME", "/root"}, {"CHORUSX", "1"}, {"MY_CHORUS_PORT", "x"}}).has_value());
}

TEST_F(ConfigFileTest, UnknownYamlKeyIsNamedWithFileAndLine) {
  const std::string path = write("bad.yaml", "sip_port: 5060\nhttp_prot: 80\n");
  const std::string error = error_of({"--config", path});
  EXPECT_THAT(error, HasSubstr("\"http_prot\""));
  EXPECT_THAT(error, HasSubstr(path + ":2"));
  EXPECT_THAT(error, HasSubstr("did you mean http_port?"));
}

TEST_F(ConfigFileTest, BadYamlValueReportsItsLine) {
  const std::string path = write("line.yaml", "bind: 0.0.0.0\n\nlog_level: loud\n");
  const std::string error = error_of({"--config", path});
  EXPECT_THAT(error, HasSubstr("log_level (file " + path + ":3)"));
  EXPECT_THAT(error, HasSubstr("\"loud\""));
  EXPECT_THAT(error, HasSubstr("trace, debug, info, warn, error"));
}

TEST_F(ConfigFileTest, YamlSyntaxErrorReportsItsLine) {
  const std::string path = write("syntax.yaml", "sip_port: 5060\nhttp_port: [8080\n");
  const std::string error = error_of({"--config", path});
  EXPECT_THAT(error, HasSubstr("config file " + path + ":"));
}

TEST_F(ConfigFileTest, NestedOrRepeatedYamlKeysAreRejected) {
  EXPECT_THAT(error_of({"--config", write("nested.yaml", "sip_port:\n  udp: 5060\n")}),
              HasSubstr("expected a single value, not a mapping"));
  EXPECT_THAT(error_of({"--config", write("list.yaml", "sip_port: [1, 2]\n")}), HasSubstr("not a list"));
  const std::string twice = write("twice.yaml", "sip_port: 5060\nsip_port: 5070\n");
  EXPECT_THAT(error_of({"--config", twice}), HasSubstr("sip_port (file " + twice + ":2)"));
  EXPECT_THAT(error_of({"--config", write("scalar.yaml", "just text\n")}), HasSubstr("expected a mapping of settings"));
  EXPECT_THAT(error_of({"--config", write("cfg.yaml", "config: other.yaml\n")}),
              HasSubstr("--config or CHORUS_CONFIG"));
}

TEST_F(ConfigFileTest, EmptyYamlValueReadsAsEmptyText) {
  auto result = load({"--config", write("null.yaml", "public_ip:\nadmin_token: ~\n")});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.public_ip, "");
  EXPECT_EQ(result->sources.at("public_ip"), Source::kFile);
  const std::string path = write("nullport.yaml", "bind: \"::\"\nsip_port:\n");
  EXPECT_THAT(error_of({"--config", path}), HasSubstr("sip_port (file " + path + ":2)"));
}

TEST_F(ConfigFileTest, BareIpv6WildcardGetsAQuotingHint) {
  // YAML reads an unquoted `::` as a mapping indicator; every other IPv6 literal is fine bare.
  const std::string path = write("v6.yaml", "bind: ::\n");
  EXPECT_THAT(error_of({"--config", path}), HasSubstr("bind: \"::\""));
  auto result = load({"--config", write("v6ok.yaml", "bind: fe80::1\npublic_ip: 2001:db8::7\n")});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.bind, "fe80::1");
}

// A broken lower source is reported even when a stronger one overrides it: it would bite the
// day the override goes away.
TEST_F(ConfigFileTest, OverriddenBadValueIsStillReported) {
  const std::string path = write("bad.yaml", "http_port: eighty\n");
  EXPECT_THAT(error_of({"--config", path, "--http-port", "8081"}), HasSubstr("http_port (file " + path + ":1)"));
  EXPECT_THAT(error_of({"--http-port", "8081"}, {{"CHORUS_HTTP_PORT", "x"}}),
              HasSubstr("http_port (env CHORUS_HTTP_PORT)"));
}

TEST_F(ConfigFileTest, MissingConfigFileIsAnError) {
  const std::string missing = (dir_ / "absent.yaml").string();
  EXPECT_THAT(error_of({"--config", missing}), HasSubstr(missing + " does not exist"));
  EXPECT_THAT(error_of({"--config", dir_.string()}), HasSubstr("not a regular file"));
}

TEST(Config, BadPortsAreRejectedNamingKeyAndSource) {
  const std::string error = error_of({}, {{"CHORUS_SIP_PORT", "70000"}});
  EXPECT_THAT(error, HasSubstr("sip_port (env CHORUS_SIP_PORT)"));
  EXPECT_THAT(error, HasSubstr("\"70000\""));
  EXPECT_THAT(error, HasSubstr("from 0 to 65535"));
  EXPECT_THAT(error_of({"--http-port", "80a"}), HasSubstr("http_port (flag --http-port)"));
  EXPECT_THAT(error_of({"--ws-port=-1"}), HasSubstr("ws_port"));
  EXPECT_THAT(error_of({"--wss-port", "65536"}), HasSubstr("wss_port (flag --wss-port)"));
  EXPECT_THAT(error_of({}, {{"CHORUS_WSS_PORT", "x"}}), HasSubstr("wss_port (env CHORUS_WSS_PORT)"));
  EXPECT_THAT(error_of({"--sips-port="}), HasSubstr("sips_port"));
  EXPECT_THAT(error_of({"--workers", "0"}), HasSubstr("from 1 to 256"));
}

TEST(Config, PortZeroMeansAnyFreePortAndNeverClashes) {
  auto result = load({"--sip-port=0", "--ws-port=0", "--http-port=0"});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.sip_port, 0);
}

TEST(Config, RtpRangeMustStartEvenAndAscend) {
  EXPECT_THAT(error_of({"--rtp-ports", "20001-29999"}), HasSubstr("LO even"));
  EXPECT_THAT(error_of({"--rtp-ports", "29998-20000"}), HasSubstr("rtp_ports (flag --rtp-ports)"));
  EXPECT_THAT(error_of({"--rtp-ports", "20000-20000"}), HasSubstr("LO < HI"));
  EXPECT_THAT(error_of({"--rtp-ports", "1000-2000"}), HasSubstr("1024 to 65535"));
  EXPECT_THAT(error_of({"--rtp-ports", "40000-70000"}), HasSubstr("rtp_ports"));
  EXPECT_THAT(error_of({"--rtp-ports", "40000"}), HasSubstr("rtp_ports"));
}

TEST(Config, LogLevelAcceptsOnlyTheFiveNames) {
  EXPECT_THAT(error_of({"--log-level", "verbose"}), HasSubstr("one of trace, debug, info, warn, error"));
  EXPECT_THAT(error_of({"--log-level", "off"}), HasSubstr("log_level"));
  auto result = load({"--log-level", "warn"});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.log_level, LogLevel::kWarn);
}

TEST(Config, AudioCodecsMustBeKnownWithTheirRtpmapRate) {
  EXPECT_THAT(error_of({"--audio-codecs", "opus/48000/2,GSM/8000"}), HasSubstr("\"GSM/8000\" is not one of them"));
  EXPECT_THAT(error_of({"--audio-codecs", "PCMU/16000"}), HasSubstr("audio_codecs (flag --audio-codecs)"));
  EXPECT_THAT(error_of({"--audio-codecs", "opus/48000/1"}), HasSubstr("\"opus/48000/1\""));
  EXPECT_THAT(error_of({"--audio-codecs", "PCMU"}), HasSubstr("name/rate[/channels]"));
  EXPECT_THAT(error_of({"--audio-codecs", "PCMU/8000,pcmu/8000"}), HasSubstr("is repeated"));
  EXPECT_THAT(error_of({"--audio-codecs", "PCMU/8000,"}), HasSubstr("audio_codecs"));
  auto result = load({"--audio-codecs", "opus/48000,G722/8000/1"});  // channels default per codec
  ASSERT_TRUE(result.has_value()) << result.error();
  const std::vector<AudioCodecSetting> codecs{{"opus", 48000, 2}, {"G722", 8000, 1}};
  EXPECT_EQ(result->config.audio_codecs, codecs);
}

TEST(Config, AddressesMustBeLiterals) {
  EXPECT_THAT(error_of({"--bind", "localhost"}), HasSubstr("IPv4 or IPv6 address literal"));
  EXPECT_THAT(error_of({"--bind", "[::1]"}), HasSubstr("bind"));
  EXPECT_THAT(error_of({"--public-ip", "0.0.0.0"}), HasSubstr("public_ip"));
  EXPECT_THAT(error_of({"--public-ip", "::"}), HasSubstr("public_ip"));
  auto result = load({"--bind", "::", "--public-ip", "2001:db8::7"});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.public_ip, "2001:db8::7");
}

TEST_F(ConfigFileTest, TlsCertificateNeedsItsKey) {
  const std::string cert = write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  const std::string key = write("key.pem", "-----BEGIN PRIVATE KEY-----\n");
  const std::string error = error_of({"--tls-cert", cert});
  EXPECT_THAT(error, HasSubstr("tls_cert (flag --tls-cert) is set but tls_key is not"));
  EXPECT_THAT(error_of({}, {{"CHORUS_TLS_KEY", key}}), HasSubstr("tls_key (env CHORUS_TLS_KEY)"));
  EXPECT_THAT(error_of({"--tls-cert", cert, "--tls-key", (dir_ / "none.pem").string()}),
              HasSubstr("tls_key (flag --tls-key)"));
  auto result = load({"--tls-cert", cert, "--tls-key", key});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.tls_key, key);
}

TEST_F(ConfigFileTest, WssPortClashesOnlyWhenTlsIsOn) {
  EXPECT_TRUE(load({"--wss-port", "5060"}).has_value());  // no certificate: WSS does not listen
  const std::string cert = write("cert.pem", "-----BEGIN CERTIFICATE-----\n");
  const std::string key = write("key.pem", "-----BEGIN PRIVATE KEY-----\n");
  EXPECT_THAT(error_of({"--tls-cert", cert, "--tls-key", key, "--wss-port", "5060"}),
              HasSubstr("sip_port = 5060 (default) and wss_port = 5060 (flag --wss-port) must differ"));
  EXPECT_THAT(error_of({"--tls-cert", cert, "--tls-key", key, "--wss-port", "5061"}), HasSubstr("sips_port"));
  auto result = load({"--tls-cert", cert, "--tls-key", key, "--wss-port", "8443"});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_EQ(result->config.wss_port, 8443);
}

TEST(Config, MediaGuardSettingsHaveSafeDefaultsAndCheckTheirValues) {
  auto defaults = load({});
  ASSERT_TRUE(defaults.has_value()) << defaults.error();
  EXPECT_EQ(defaults->config.media_timeout, 30s);  // issue 12: on by default
  EXPECT_EQ(defaults->config.media_hold_timeout, 300s);
  EXPECT_EQ(defaults->config.media_latch_window, 3000ms);
  EXPECT_EQ(defaults->config.media_rcvbuf, 1048576u);
  EXPECT_EQ(defaults->config.sip_udp_rcvbuf, 4194304u);  // issue 13: a burst of requests waits, like Kamailio's 4 MiB
  EXPECT_TRUE(defaults->config.media_deny_ranges.empty());

  auto set = load({"--media-timeout", "5", "--media-hold-timeout", "0", "--media-latch-window", "1000",
                   "--media-deny-ranges", "10.0.0.0/8, fd00::/8"});
  ASSERT_TRUE(set.has_value()) << set.error();
  EXPECT_EQ(set->config.media_timeout, 5s);
  EXPECT_EQ(set->config.media_hold_timeout, 0s);
  EXPECT_EQ(set->config.media_latch_window, 1000ms);
  EXPECT_EQ(set->config.media_deny_ranges, (std::vector<std::string>{"10.0.0.0/8", "fd00::/8"}));

  EXPECT_THAT(error_of({"--media-deny-ranges", "10.0.0.0/8,10.0.0.0/40"}), HasSubstr("media_deny_ranges"));
  EXPECT_THAT(error_of({"--media-deny-ranges", "rooms.example.com/8"}), HasSubstr("not an IP address"));
  EXPECT_THAT(error_of({"--media-latch-window", "0"}), HasSubstr("media_latch_window"));
}

// Issue 12, egress and bounded events: refusing by default, and each value checked at start.
TEST(Config, EgressSettingsRefuseByDefaultAndCheckTheirValues) {
  auto defaults = load({});
  ASSERT_TRUE(defaults.has_value()) << defaults.error();
  EXPECT_TRUE(defaults->config.dial_out_allow.empty());  // no dial-out until the operator lists targets
  EXPECT_EQ(defaults->config.dial_out_dns_timeout, 2000ms);
  EXPECT_FALSE(defaults->config.webhook_allow_private);
  EXPECT_TRUE(defaults->config.webhook_allow_ranges.empty());
  EXPECT_EQ(defaults->config.event_log_max, 10000u);
  EXPECT_EQ(defaults->config.event_log_max_age, 604800s);
  EXPECT_EQ(defaults->config.webhook_queue_max, 10000u);
  EXPECT_EQ(defaults->config.webhook_deliveries_max, 10000u);
  EXPECT_EQ(defaults->config.webhook_deliveries_max_age, 604800s);

  auto set = load({"--dial-out-allow", "192.0.2.0/24, pbx.example.com,*.trunk.example.net", "--webhook-allow-private",
                   "true", "--webhook-allow-ranges", "10.20.0.0/16", "--dial-out-dns-timeout", "500", "--event-log-max",
                   "100", "--event-log-max-age", "0"});
  ASSERT_TRUE(set.has_value()) << set.error();
  EXPECT_EQ(set->config.dial_out_allow,
            (std::vector<std::string>{"192.0.2.0/24", "pbx.example.com", "*.trunk.example.net"}));
  EXPECT_TRUE(set->config.webhook_allow_private);
  ASSERT_EQ(set->config.webhook_allow_ranges.size(), 1u);
  EXPECT_EQ(set->config.dial_out_dns_timeout, 500ms);
  EXPECT_EQ(set->config.event_log_max, 100u);
  EXPECT_EQ(set->config.event_log_max_age, 0s);

  EXPECT_THAT(error_of({"--dial-out-allow", "192.0.2.0/24,bad host"}), HasSubstr("dial_out_allow"));
  EXPECT_THAT(error_of({"--dial-out-allow", "10.1.2.3/8"}), HasSubstr("dial_out_allow"));
  EXPECT_THAT(error_of({"--webhook-allow-private", "maybe"}), HasSubstr("true or false"));
  EXPECT_THAT(error_of({"--webhook-allow-ranges", "example.com"}), HasSubstr("webhook_allow_ranges"));
  EXPECT_THAT(error_of({"--dial-out-dns-timeout", "0"}), HasSubstr("dial_out_dns_timeout"));
  EXPECT_THAT(error_of({"--event-log-max", "0"}), HasSubstr("event_log_max"));
}

TEST(Config, WsAllowedOriginsAreOriginsOrStar) {
  auto result = load({"--ws-allowed-origins", "https://rooms.example.com, http://127.0.0.1:8080"});
  ASSERT_TRUE(result.has_value()) << result.error();
  const std::vector<std::string> origins{"https://rooms.example.com", "http://127.0.0.1:8080"};
  EXPECT_EQ(result->config.ws_allowed_origins, origins);
  auto any = load({}, {{"CHORUS_WS_ALLOWED_ORIGINS", "*"}});
  ASSERT_TRUE(any.has_value()) << any.error();
  EXPECT_EQ(any->config.ws_allowed_origins, std::vector<std::string>{"*"});
  auto empty = load({"--ws-allowed-origins="});
  ASSERT_TRUE(empty.has_value()) << empty.error();
  EXPECT_TRUE(empty->config.ws_allowed_origins.empty());

  const std::string error = error_of({"--ws-allowed-origins", "https://ok.example.com,rooms.example.com"});
  EXPECT_THAT(error, HasSubstr("ws_allowed_origins (flag --ws-allowed-origins)"));
  EXPECT_THAT(error, HasSubstr("\"rooms.example.com\": not scheme://host[:port]"));
  EXPECT_THAT(error_of({"--ws-allowed-origins", "https://a.example.com/"}), HasSubstr("no path"));
  EXPECT_THAT(error_of({"--ws-allowed-origins", "https://a.example.com,"}), HasSubstr("ws_allowed_origins"));
}

TEST_F(ConfigFileTest, WsAllowedOriginsFromAYamlList) {
  auto result = load({"--config", write("origins.yaml",
                                        "ws_allowed_origins: [https://rooms.example.com, \"http://[::1]:8080\"]\n"
                                        "wss_port: 8443\n")});
  ASSERT_TRUE(result.has_value()) << result.error();
  const std::vector<std::string> origins{"https://rooms.example.com", "http://[::1]:8080"};
  EXPECT_EQ(result->config.ws_allowed_origins, origins);
  EXPECT_EQ(result->config.wss_port, 8443);
  EXPECT_THAT(render_config(*result),
              HasSubstr("ws_allowed_origins = https://rooms.example.com,http://[::1]:8080  (file "));
}

TEST(Config, TimersKeepRfcOrdering) {
  // RFC 3261 §17.1.2.2: T2 ≥ T1.
  const std::string error = error_of({"--sip-t1", "5000", "--sip-t2=4000"});
  EXPECT_THAT(error, HasSubstr("sip_t2 = 4000 (flag --sip-t2) must be at least sip_t1 = 5000"));
  EXPECT_THAT(error_of({"--sip-t1", "0"}), HasSubstr("sip_t1"));
  // RFC 4028 §4: Min-SE is at least 90 s and Session-Expires at least Min-SE.
  EXPECT_THAT(error_of({"--min-se", "60"}), HasSubstr("from 90 to 86400"));
  EXPECT_THAT(error_of({"--min-se", "600", "--session-expires", "300"}),
              HasSubstr("session_expires = 300 (flag --session-expires) must be at least min_se = 600"));
}

TEST(Config, ListenersMustNotShareAPort) {
  EXPECT_THAT(error_of({"--http-port", "5060"}), HasSubstr("sip_port = 5060 (default) and http_port"));
  EXPECT_THAT(error_of({"--sip-port", "20002"}), HasSubstr("inside rtp_ports"));
  // sips_port only listens when TLS is configured, so it clashes with nothing otherwise.
  EXPECT_TRUE(load({"--sips-port", "5060"}).has_value());
}

TEST(Config, AdminTokenErrorsNeverEchoTheToken) {
  const std::string error = error_of({"--admin-token", "short-secret"});
  EXPECT_THAT(error, HasSubstr("admin_token (flag --admin-token)"));
  EXPECT_THAT(error, Not(HasSubstr("short-secret")));
  EXPECT_THAT(error_of({"--admin-token", "has spaces in the token"}), Not(HasSubstr("spaces")));
  EXPECT_TRUE(load({"--admin-token", "0123456789abcdefABCDEF-._~+/=="}).has_value());
}

TEST(Config, MalformedCommandLinesAreRejected) {
  EXPECT_THAT(error_of({"--data-dir"}), HasSubstr("--data-dir needs a value"));
  EXPECT_THAT(error_of({"--data-dir", "--sip-port", "5070"}), HasSubstr("--data-dir needs a value"));
  EXPECT_THAT(error_of({"stray"}), HasSubstr("unexpected argument \"stray\""));
  EXPECT_THAT(error_of({"-p"}), HasSubstr("unexpected argument"));
  EXPECT_THAT(error_of({"--print-config=yes"}), HasSubstr("--print-config takes no value"));
  EXPECT_THAT(error_of({"--data-dir="}), HasSubstr("data_dir"));
  EXPECT_THAT(error_of({"--config="}), HasSubstr("config (flag --config)"));
}

TEST(Config, HelpWinsOverEverythingElse) {
  for (const char* help : {"-h", "--help"}) {
    auto result = load({"--bogus", help}, {{"CHORUS_NOPE", "1"}});
    ASSERT_TRUE(result.has_value()) << result.error();
    EXPECT_TRUE(result->help);
  }
}

TEST(Config, UsageListsEveryFlagWithEnvAndDefault) {
  const std::string usage = usage_text();
  EXPECT_THAT(usage, HasSubstr("--config FILE"));
  EXPECT_THAT(usage, HasSubstr("CHORUS_CONFIG"));
  EXPECT_THAT(usage, HasSubstr("--print-config"));
  EXPECT_THAT(usage, HasSubstr("--help"));
  for (const SettingSpec& spec : setting_specs()) {
    EXPECT_THAT(usage, HasSubstr(flag_name(spec.key) + " " + std::string(spec.value_name)));
    EXPECT_THAT(usage, HasSubstr("env " + env_name(spec.key)));
  }
  EXPECT_THAT(usage, HasSubstr("default 20000-29999"));
  EXPECT_THAT(usage, HasSubstr("default opus/48000/2,G722/8000,PCMU/8000,PCMA/8000"));
}

TEST(Config, PrintConfigShowsSourcesAndHidesAdminToken) {
  auto result = load({"--print-config", "--admin-token", "s3cr3t-t0ken-0123456789"}, {{"CHORUS_HTTP_PORT", "9000"}});
  ASSERT_TRUE(result.has_value()) << result.error();
  EXPECT_TRUE(result->print_config);
  const std::string text = render_config(*result);
  EXPECT_THAT(text, HasSubstr("sip_port = 5060  (default)\n"));
  EXPECT_THAT(text, HasSubstr("http_port = 9000  (env CHORUS_HTTP_PORT)\n"));
  EXPECT_THAT(text, HasSubstr("admin_token = ***  (flag --admin-token)\n"));
  EXPECT_THAT(text, HasSubstr("public_ip = \"\"  (default)\n"));
  EXPECT_THAT(text, HasSubstr("config = \"\"  (default)\n"));
  EXPECT_THAT(text, Not(HasSubstr("s3cr3t")));
  for (const SettingSpec& spec : setting_specs()) EXPECT_THAT(text, HasSubstr("\n" + std::string(spec.key) + " = "));
}

// Each setting shows its value in the syntax it parses, so --print-config output can be pasted
// back as flags; walking the table keeps that true for settings added later.
TEST(Config, EveryShownDefaultParsesBackToItself) {
  const Config defaults;
  for (const SettingSpec& spec : setting_specs()) {
    if (spec.secret) continue;
    Config parsed;
    const std::string shown = spec.show(defaults);
    ASSERT_TRUE(spec.apply(parsed, shown).has_value()) << spec.key << " = " << shown;
    EXPECT_EQ(spec.show(parsed), shown) << spec.key;
  }
}

TEST(Config, EnvironmentFromSplitsAtFirstEquals) {
  std::string a = "CHORUS_BIND=::1";
  std::string b = "WEIRD=a=b";
  std::string c = "NO_EQUALS";
  std::vector<char*> envp{a.data(), b.data(), c.data(), nullptr};
  const Env env = environment_from(envp.data());
  EXPECT_EQ(env, (Env{{"CHORUS_BIND", "::1"}, {"WEIRD", "a=b"}}));
  EXPECT_TRUE(environment_from(nullptr).empty());
}

// Issue 15, QoS: RFC 4594's classes by default; a code point is six bits.
TEST(Config, DscpSettingsDefaultToSignalingTelephonyAndConferencingClasses) {
  auto defaults = load({});
  ASSERT_TRUE(defaults.has_value()) << defaults.error();
  EXPECT_EQ(defaults->config.dscp_sip, 24);    // CS3
  EXPECT_EQ(defaults->config.dscp_audio, 46);  // EF
  EXPECT_EQ(defaults->config.dscp_video, 34);  // AF41

  auto set = load({"--dscp-sip", "26", "--dscp-audio", "0"}, {{"CHORUS_DSCP_VIDEO", "36"}});
  ASSERT_TRUE(set.has_value()) << set.error();
  EXPECT_EQ(set->config.dscp_sip, 26);
  EXPECT_EQ(set->config.dscp_audio, 0);
  EXPECT_EQ(set->config.dscp_video, 36);
  EXPECT_THAT(render_config(*set), HasSubstr("dscp_sip = 26"));

  EXPECT_THAT(error_of({"--dscp-audio", "64"}), HasSubstr("dscp_audio"));
  EXPECT_THAT(error_of({"--dscp-video", "-1"}), HasSubstr("dscp_video"));
  EXPECT_THAT(error_of({"--dscp-sip", "ef"}), HasSubstr("an integer from 0 to 63"));
}

TEST(Config, SipDnsServersAreAddressesWithPorts) {
  auto defaults = load({});
  ASSERT_TRUE(defaults.has_value()) << defaults.error();
  EXPECT_TRUE(defaults->config.sip_dns_servers.empty()) << "the system's resolvers";
  auto set = load({"--sip-dns-servers", "127.0.0.1:5353, [::1]:53"});
  ASSERT_TRUE(set.has_value()) << set.error();
  EXPECT_EQ(set->config.sip_dns_servers, (std::vector<std::string>{"127.0.0.1:5353", "[::1]:53"}));
  EXPECT_THAT(error_of({"--sip-dns-servers", "dns.example.com:53"}), HasSubstr("IP:port"));
  EXPECT_THAT(error_of({"--sip-dns-servers", "127.0.0.1"}), HasSubstr("IP:port"));
  EXPECT_THAT(error_of({"--sip-dns-servers", "127.0.0.1:0"}), HasSubstr("IP:port"));
  EXPECT_THAT(error_of({"--sip-dns-servers", "127.0.0.1:70000"}), HasSubstr("IP:port"));
}

}  // namespace config_test
}  // namespace chorus::server
