// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderApp
import Testing

@Suite struct ServiceConfigurationTests {
    @Test func keepsInbox() {
        #expect(ServiceConfiguration(inbox: "/srv/inbox").inbox == "/srv/inbox")
    }
}
