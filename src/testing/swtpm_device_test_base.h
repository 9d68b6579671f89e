// SwtpmDeviceTest: the GoogleTest fixture every TPM test starts from: a
// private swtpm (swtpm_process.h) and a Tpm2Device connected to it. After
// each test it checks that no transient object or session was left behind
// (swtpm has no resource manager, so a leak would exhaust it).
//
// Header-only: it is compiled into test binaries, which link GoogleTest.
#pragma once

#include <memory>

#include "gtest/gtest.h"
#include "keystore/tpm2/tpm2_device.h"
#include "testing/swtpm_process.h"

namespace sigil::testing {

class SwtpmDeviceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto tpm = SwtpmProcess::Start();
    ASSERT_TRUE(tpm.ok()) << tpm.status();
    swtpm_ = std::move(*tpm);
    auto dev = keystore::tpm2::Tpm2Device::Open(swtpm_->tcti());
    ASSERT_TRUE(dev.ok()) << dev.status();
    dev_ = std::move(*dev);
  }
  void TearDown() override {
    if (!dev_) return;
    auto counts = dev_->CountHandles();
    ASSERT_TRUE(counts.ok()) << counts.status();
    EXPECT_EQ(counts->transient, 0u);
    EXPECT_EQ(counts->loaded_sessions, 0u);
  }

  std::unique_ptr<SwtpmProcess> swtpm_;
  std::unique_ptr<keystore::tpm2::Tpm2Device> dev_;
};

}  // namespace sigil::testing
