// GstPtr: each owner gives back exactly the reference it holds, for GstObjects (floating or not)
// and mini objects alike.
#include "mixer/gst/gst_ptr.hpp"

#include <gtest/gtest.h>

#include "mixer/gst/gst_runtime.hpp"

namespace chorus::mixer::gst {
namespace gst_ptr_test {

TEST(GstPtr, AdoptFloatingSinksAndSharedCopiesAreReleasedOneByOne) {
  ensure_gst_initialized();
  GstPtr<GstElement> element = gst_adopt_floating(gst_element_factory_make("identity", nullptr));
  ASSERT_TRUE(element);
  EXPECT_FALSE(g_object_is_floating(element.get()));
  EXPECT_EQ(GST_OBJECT_REFCOUNT_VALUE(element.get()), 1);
  {
    const GstPtr<GstElement> shared = gst_share(element.get());
    EXPECT_EQ(GST_OBJECT_REFCOUNT_VALUE(element.get()), 2);
  }
  EXPECT_EQ(GST_OBJECT_REFCOUNT_VALUE(element.get()), 1);
}

TEST(GstPtr, AdoptFloatingKeepsTheObjectAliveAfterABinTakesIt) {
  ensure_gst_initialized();
  const GstPtr<GstElement> bin = gst_adopt_floating(gst_bin_new("bin"));
  const GstPtr<GstElement> element = gst_adopt_floating(gst_element_factory_make("identity", nullptr));
  ASSERT_TRUE(gst_bin_add(GST_BIN(bin.get()), element.get()));
  EXPECT_EQ(GST_OBJECT_REFCOUNT_VALUE(element.get()), 2);  // ours and the bin's
}

TEST(GstPtr, MiniObjectsAreReleasedByTheirOwnCount) {
  ensure_gst_initialized();
  const GstPtr<GstBuffer> buffer = gst_adopt(gst_buffer_new_allocate(nullptr, 960 * 2, nullptr));
  ASSERT_TRUE(buffer);
  {
    const GstPtr<GstBuffer> shared = gst_share(buffer.get());
    EXPECT_EQ(GST_MINI_OBJECT_REFCOUNT_VALUE(buffer.get()), 2);
    const GstPtr<GstSample> sample = gst_adopt(gst_sample_new(buffer.get(), nullptr, nullptr, nullptr));
    EXPECT_EQ(GST_MINI_OBJECT_REFCOUNT_VALUE(buffer.get()), 3);  // the sample holds one too
  }
  EXPECT_EQ(GST_MINI_OBJECT_REFCOUNT_VALUE(buffer.get()), 1);
}

TEST(GstPtr, NullStaysNull) {
  EXPECT_FALSE(gst_adopt<GstSample>(nullptr));
  EXPECT_FALSE(gst_share<GstElement>(nullptr));
  EXPECT_FALSE(gst_adopt_floating<GstElement>(nullptr));
}

}  // namespace gst_ptr_test
}  // namespace chorus::mixer::gst
