// The libpq wrapper's parts that need no server: the password never shown, conninfo checked
// without quoting it, and parameters that cannot be sent refused. The connection itself is
// tested through the store (postgres_store_test.cpp).
#include "conference/store/postgres_connection.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chorus::conference::pg {
namespace postgres_connection_test {

TEST(PostgresConninfo, UriPasswordIsMasked) {
  EXPECT_EQ(redact_conninfo("postgresql://chorus:s3cret@db.example.com:5432/chorus"),
            "postgresql://chorus:***@db.example.com:5432/chorus");
  EXPECT_EQ(redact_conninfo("postgres://u:p%40ss:w@h/db?sslmode=require"), "postgres://u:***@h/db?sslmode=require");
  EXPECT_EQ(redact_conninfo("postgresql://u:@h/db"), "postgresql://u:***@h/db");
  EXPECT_EQ(redact_conninfo("postgresql://chorus:pw@/db?host=/run/postgresql"),
            "postgresql://chorus:***@/db?host=/run/postgresql");
}

TEST(PostgresConninfo, PasswordParameterIsMasked) {
  EXPECT_EQ(redact_conninfo("postgresql://u@h/db?password=s3cret&sslmode=require"),
            "postgresql://u@h/db?password=***&sslmode=require");
  EXPECT_EQ(redact_conninfo("postgresql:///db?host=/tmp/x&user=u&password=abc"),
            "postgresql:///db?host=/tmp/x&user=u&password=***");
  EXPECT_EQ(redact_conninfo("postgresql://a:b@h/db?password=c"), "postgresql://a:***@h/db?password=***");
}

TEST(PostgresConninfo, UriWithoutPasswordIsUnchanged) {
  for (const char* uri : {"postgresql://h/db", "postgresql://u@h:5433/db", "postgres:///db?host=/run/postgresql",
                          "postgresql://u@h/db?sslmode=verify-full&application_name=x"}) {
    EXPECT_EQ(redact_conninfo(uri), uri);
  }
}

TEST(PostgresConninfo, KeywordPasswordIsMasked) {
  EXPECT_EQ(redact_conninfo("host=h password=s3cret dbname=d"), "host=h password=*** dbname=d");
  EXPECT_EQ(redact_conninfo("host=h password = 'it\\'s s3cret' dbname=d"), "host=h password = *** dbname=d");
  EXPECT_EQ(redact_conninfo("passfile=/x host=h"), "passfile=/x host=h");
  EXPECT_EQ(redact_conninfo("user=p password=a sslpassword=b"), "user=p password=*** sslpassword=b");
}

TEST(PostgresConninfo, SchemesAreRecognised) {
  EXPECT_TRUE(is_postgres_uri("postgresql://h/db"));
  EXPECT_TRUE(is_postgres_uri("postgres://h/db"));
  EXPECT_FALSE(is_postgres_uri("postgresql:h"));
  EXPECT_FALSE(is_postgres_uri("mysql://h/db"));
  EXPECT_FALSE(is_postgres_uri(""));
}

TEST(PostgresConninfo, UnparseableConninfoIsRefusedWithoutQuotingIt) {
  EXPECT_TRUE(check_conninfo("postgresql://u:pw@h:5432/db?sslmode=require").has_value());
  for (const char* bad : {"postgresql://u:s3cret@h/db?nosuchoption=1", "postgresql://u:s3cret@[::1/db",
                          "postgresql://u:s3cret@h/db?sslmode=%zz"}) {
    auto checked = check_conninfo(bad);
    ASSERT_FALSE(checked.has_value()) << bad;
    EXPECT_EQ(checked.error().find("s3cret"), std::string::npos) << checked.error();
  }
}

TEST(PostgresConninfo, OpenWithABadUriNamesItMasked) {
  auto opened = PgConnection::open(PgSettings{.conninfo = "postgresql://u:s3cret@h/db?nosuchoption=1"});
  ASSERT_FALSE(opened.has_value());
  EXPECT_EQ(opened.error().message.find("s3cret"), std::string::npos) << opened.error().message;
  EXPECT_NE(opened.error().message.find("u:***@h"), std::string::npos) << opened.error().message;
}

TEST(PostgresParams, OneBasedWithTypedGapsAndNulls) {
  PgParams params;
  params.bind(1, std::string_view("a")).bind(3, std::int64_t{-42}).bind_optional(4, std::nullopt).bind_null(5);
  ASSERT_EQ(params.size(), 5u);
  EXPECT_EQ(params.values()[0], std::optional<std::string>("a"));
  EXPECT_EQ(params.values()[1], std::nullopt);  // the gap: a NULL text nobody reads
  EXPECT_EQ(params.values()[2], std::optional<std::string>("-42"));
  EXPECT_EQ(params.values()[3], std::nullopt);
  EXPECT_EQ(params.types(), (std::vector<unsigned>{25, 25, 20, 25, 0}));
  EXPECT_TRUE(params.error().empty());
}

TEST(PostgresParams, TextWithANulByteCannotBeSent) {
  PgParams params;
  params.bind(2, std::string_view("a\0b", 3));
  EXPECT_NE(params.error().find("$2"), std::string::npos) << params.error();
}

}  // namespace postgres_connection_test
}  // namespace chorus::conference::pg
