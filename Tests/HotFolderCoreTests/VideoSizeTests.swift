// SPDX-License-Identifier: GPL-2.0-or-later
import HotFolderCore
import Testing

@Suite struct VideoSizeTests {
    @Test func tableMatchesSpec() {
        #expect(VideoSize.of(.p720, .wide) == VideoSize(width: 1248, height: 704))
        #expect(VideoSize.of(.p1080, .ultraWide) == VideoSize(width: 2176, height: 928))
        #expect(VideoSize.of(.p480, .tall) == VideoSize(width: 480, height: 864))
    }

    @Test func tokensMatchSpecExamples() {
        #expect(VideoSize.of(.p720, .wide).tokens(durationSeconds: 5) == 102_960)
        #expect(VideoSize.of(.p480, .wide).tokens(durationSeconds: 5) == 48_600)
    }
}
