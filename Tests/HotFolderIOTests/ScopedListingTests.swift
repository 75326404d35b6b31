// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderCore
import HotFolderIO
import Testing

/// Listing only the folders that changed: what the service plans after a drop.
@Suite struct ScopedListingTests {
    /// Whole-subtree scopes of these folders.
    private func whole(_ folders: String...) -> [ListingScope] { folders.map { ListingScope(folder: $0) } }

    /// A tree with defaults at two levels, a changed folder, a sibling lane and files at the root.
    private func makeInbox() throws -> TemporaryFolder {
        let inbox = try TemporaryFolder()
        try inbox.write("_defaults.yaml", "duration: 4")
        try inbox.write("root-prompt.txt", "Root")
        try inbox.write("portrait/_defaults.yaml", "aspect_ratio: \"9:16\"")
        try inbox.write("portrait/other.txt", "Other")
        try inbox.write("portrait/new/dancer.txt", "Dancer")
        try inbox.write("portrait/new/deeper/step.txt", "Step")
        try inbox.write("landscape/sea.txt", "Sea")
        try inbox.write("outbox/done.mp4", "video")
        return inbox
    }

    @Test func listsTheFolderItsParentsAndTheirDefaultsOnly() throws {
        let inbox = try makeInbox()
        let paths = Set(try FileSystemDropSource(root: inbox.path).entries(within: whole("portrait/new")).map(\.path))
        #expect(paths == [
            "_defaults.yaml", "portrait", "portrait/_defaults.yaml",
            "portrait/new", "portrait/new/dancer.txt", "portrait/new/deeper", "portrait/new/deeper/step.txt",
        ])
    }

    /// A planning pass for one arriving file lists every group it may belong to: an export meets its prompt, a
    /// frame its whole sequence (failed before: only files of the frame's own stem were listed).
    @Test func anExportOrAFrameListsTheGroupItBelongsTo() throws {
        let inbox = try TemporaryFolder()
        for name in ["hero.txt", "hero@2x.png", "other.txt", "shot.txt", "shot_00001.png", "shot_00002.png", "shot_00003.png"] {
            try inbox.write(name, "x")
        }
        let source = FileSystemDropSource(root: inbox.path)
        let export = Set(try source.entries(within: [ListingScope(folder: "", stems: Set(FileNameRules.groupKeys("hero@2x.png")))]).map(\.path))
        #expect(export == ["hero.txt", "hero@2x.png"])
        let frame = Set(try source.entries(within: [ListingScope(folder: "", stems: Set(FileNameRules.groupKeys("shot_00002.png")))]).map(\.path))
        #expect(frame == ["shot.txt", "shot_00001.png", "shot_00002.png", "shot_00003.png"])
    }

    @Test func nestedAndRootScopes() throws {
        let inbox = try makeInbox()
        let source = FileSystemDropSource(root: inbox.path)
        // A folder inside another scope adds nothing twice.
        let nested = try source.entries(within: whole("portrait", "portrait/new")).map(\.path)
        #expect(nested.count == Set(nested).count)
        #expect(Set(nested).isSuperset(of: ["portrait/other.txt", "portrait/new/deeper/step.txt"]))
        #expect(!nested.contains("landscape/sea.txt"))
        // The root scope is the whole inbox.
        #expect(Set(try source.entries(within: whole("")).map(\.path)) == Set(try source.entries().map(\.path)))
        // A folder that is gone lists nothing below it, and is not an error.
        #expect(try source.entries(within: whole("gone/away")).allSatisfy { $0.path == "_defaults.yaml" })
    }

    @Test func excludedFoldersAreNeitherListedNorEntered() throws {
        let inbox = try makeInbox()
        var source = FileSystemDropSource(root: inbox.path)
        source.excludedFolders = ["outbox"]
        let all = Set(try source.entries().map(\.path))
        #expect(!all.contains("outbox") && !all.contains("outbox/done.mp4"))
        #expect(all.contains("landscape/sea.txt"))
        #expect(try source.entries(within: whole("outbox")).isEmpty)
    }

    @Test func aStemScopeListsOnlyItsGroupsAndTheDefaults() throws {
        let inbox = try makeInbox()
        try inbox.write("portrait/new/dancer.yaml", "duration: 3")
        try inbox.write("portrait/new/dancer.first.png", "x")
        try inbox.write("portrait/new/singer.txt", "Singer")
        try inbox.write("portrait/new/_defaults.yaml", "duration: 6")
        let scope = ListingScope(folder: "portrait/new", stems: ["dancer"])
        let paths = Set(try FileSystemDropSource(root: inbox.path).entries(within: [scope]).map(\.path))
        #expect(paths == [
            "_defaults.yaml", "portrait", "portrait/_defaults.yaml", "portrait/new", "portrait/new/_defaults.yaml",
            "portrait/new/dancer.txt", "portrait/new/dancer.yaml", "portrait/new/dancer.first.png",
        ])
        // An empty stem set lists only the folder and the defaults down to it.
        let none = Set(try FileSystemDropSource(root: inbox.path).entries(within: [ListingScope(folder: "portrait", stems: [])]).map(\.path))
        #expect(none == ["_defaults.yaml", "portrait", "portrait/_defaults.yaml"])
    }

    @Test(arguments: ["shots.csv", "rows.JSONL", "prompt.txt", "First_Frame.png", "settings.yaml"])
    func aStemScopeWidensToTheFolderForManifestsAndShotFolders(name: String) throws {
        let inbox = try makeInbox()
        try inbox.write("portrait/new/" + name, "x")
        let scope = ListingScope(folder: "portrait/new", stems: ["dancer"])
        let paths = Set(try FileSystemDropSource(root: inbox.path).entries(within: [scope]).map(\.path))
        #expect(paths.isSuperset(of: ["portrait/new/" + name, "portrait/new/deeper/step.txt"]), "the whole subtree")
    }

    @Test func aWholeScopeCoversTheStemScopesInside() throws {
        let inbox = try makeInbox()
        let source = FileSystemDropSource(root: inbox.path)
        let listed = try source.entries(within: [ListingScope(folder: "portrait"), ListingScope(folder: "portrait/new", stems: ["x"])]).map(\.path)
        #expect(listed.count == Set(listed).count)
        #expect(Set(listed) == Set(try source.entries(within: whole("portrait")).map(\.path)))
    }
}
