// SPDX-License-Identifier: GPL-2.0-or-later
import SeedanceEmulator
import Testing

@Suite struct EmulatorConfigurationTests {
    @Test func defaultsBindLoopback() {
        #expect(EmulatorConfiguration().host == "127.0.0.1")
    }
}
