// SPDX-License-Identifier: GPL-2.0-or-later
import Foundation
import HotFolderIO
import HotFolderCore
import Logging

/// The service's configuration: every setting of `hotfolder.yaml` with its default, after environment overrides.
///
/// Build it with ``ServiceConfigurationLoader``; `etc/hotfolder.example.yaml` documents each setting. Paths are
/// absolute. The API key is not part of it (see ``ServiceConfigurationLoader/resolveAPIKey(for:)``), so a
/// configuration can be printed, logged and compared freely.
public struct ServiceConfiguration: Sendable, Hashable {
    /// Which API the service talks to.
    public enum Provider: String, Sendable, Hashable, CaseIterable {
        /// The Seedance gateway (`/v1/videos/generations`, `/v1/uploads/images`).
        case gateway
        /// Volcengine/BytePlus Ark (`/contents/generations/tasks`).
        case ark

        /// The base URL used when `base_url` is not set.
        public var defaultBaseURL: String {
            switch self {
            case .gateway: "https://gccai.heqingsong.uk"
            case .ark: "https://ark.ap-southeast.bytepluses.com/api/v3"
            }
        }
    }

    /// Output token prices in US dollars per million tokens, for cost estimates.
    public struct Prices: Sendable, Hashable {
        /// The fast model's price.
        public var fast: Double
        /// The quality model's price.
        public var quality: Double

        /// Creates prices; the defaults are third-party list prices (see `spec/seedance-api.md`).
        public init(fast: Double = 0.6, quality: Double = 2.2) {
            self.fast = fast
            self.quality = quality
        }
    }

    /// The configuration file this came from, if any.
    public var configFile: String?
    /// The folder people drop files into.
    public var inbox: String
    /// Where videos, metadata and logs go (default `outbox` beside the inbox).
    public var outbox: String
    /// Where failed jobs' inputs and error files go (default `failed` beside the inbox).
    public var failed: String
    /// Where finished jobs' inputs go (default `archive` beside the inbox).
    public var archive: String
    /// What happens to finished jobs' inputs.
    public var archivePolicy: ArchivePolicy = .move
    /// How design tools' export names are read: `auto` groups `hero@2x.png` with `hero.txt`; `literal` does not.
    public var exportNames: ExportNames = .auto
    /// How long an image sequence must go without a new frame before it becomes a job.
    public var sequenceSettle: Duration = .seconds(30)
    /// An image over 6000 px a side or 20 MB: `downscale` (keeping its shape, never up) or `fail`.
    public var imageFit: ImageFit = .downscale
    /// Most entries in a ZIP archive dropped into the inbox; a larger one is refused.
    public var zipMaxEntries: Int = 1000
    /// Most bytes a ZIP archive dropped into the inbox may unpack to, all entries together.
    public var zipMaxBytes: Int = 2_000_000_000
    /// Which API to call.
    public var provider: Provider = .gateway
    /// The API's base URL (default: the provider's).
    public var baseURL: String
    /// A file holding the API key, used when `SEEDANCE_API_KEY` is not set.
    public var apiKeyFile: String?
    /// The folder of the state database.
    public var stateDirectory: String
    /// Job settings (model, duration, aspect_ratio, resolution, …) below the folder defaults; the drop protocol
    /// validates them.
    public var defaults: [String: String] = [:]
    /// Prices for cost estimates.
    public var prices = Prices()
    /// How long a job's files must stay unchanged before it is ready.
    public var settle: Duration = .seconds(2)
    /// How the inbox is watched.
    public var watchMode: WatchMode = .auto
    /// How often the inbox is scanned in poll mode.
    public var pollInterval: Duration = .seconds(5)
    /// Whether poll mode reads folders whose mtime has not changed.
    public var pollFolders: FolderReading = .auto
    /// Poll mode: a file unchanged for a minute is examined on one scan in this many (1: every scan).
    public var pollSettledEvery = PollScanner.defaultSettledEvery
    /// How often the whole inbox is rescanned in inotify mode, to catch anything inotify missed.
    public var rescanInterval: Duration = .seconds(60)
    /// How long an incomplete group (an image without a prompt) waits before it fails.
    public var orphanTimeout: Duration = .seconds(600)
    /// How many remote tasks may run at once.
    public var maxInFlight = 4
    /// How many image uploads may run at once.
    public var maxUploads = 2
    /// How many video downloads may run at once.
    public var maxDownloads = 2
    /// How many jobs may be between the queue and their task (uploading, in the create call) at once.
    public var maxSubmits = 8
    /// The wait before a new task's first status call.
    public var pollFirstDelay: Duration = .seconds(5)
    /// The shortest wait between two status calls for one task.
    public var pollMinInterval: Duration = .seconds(3)
    /// The longest wait between two status calls for one task.
    public var pollMaxInterval: Duration = .seconds(30)
    /// At most this many status calls per second, over all tasks.
    public var maxStatusCallsPerSecond: Double = 5
    /// Attempts per job step (upload, create) before a transient error fails the job. Downloads of a finished
    /// video go on until its link expires; status calls have their own, larger limit.
    public var maxAttempts = 5
    /// Tasks the provider may fail for an unknown reason before the job fails with the provider's message
    /// (each is a new task; failed tasks are not billed).
    public var maxTaskFailures = 3
    /// The first retry's delay ceiling; it doubles per attempt.
    public var backoffBase: Duration = .seconds(2)
    /// The longest retry delay ceiling.
    public var backoffMax: Duration = .seconds(300)
    /// The timeout of one HTTP request.
    public var requestTimeout: Duration = .seconds(60)
    /// Whether jobs left `uncertain` by a crash are resubmitted without asking (they may be charged twice).
    public var resubmitUncertain = false
    /// Days the history of finished jobs is kept in the state database (0: forever). Jobs whose inputs are still
    /// in the inbox (`archive_policy: keep`) are kept whatever their age, so their files never run again.
    public var historyDays = 90
    /// How long shutdown waits for in-flight requests.
    public var shutdownGrace: Duration = .seconds(10)
    /// While the queue is paused (key refused, no balance), how often one job is let through to find out
    /// whether the account works again.
    public var pauseProbeInterval: Duration = .seconds(60)
    /// The lowest level logged.
    public var logLevel: Logger.Level = .info
    /// The zone calendar days, months, budgets' resets, time windows and the report's hour are counted in
    /// (`timezone: Europe/Berlin`; default: the system's).
    public var timeZone: TimeZone = .current
    /// Spending caps (`budget:`); none by default.
    public var budget = BudgetCaps()
    /// When jobs may be submitted (`schedule:`); nil: at any time. A folder's `_defaults.yaml` may set its own.
    public var schedule: SubmissionSchedule?

    /// The Gregorian calendar in ``timeZone``: days, months and windows are counted in it.
    public var calendar: Calendar {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        return calendar
    }
    /// When the morning report is written (`report:`).
    public var report = ReportSettings()
    /// Where the dashboard, JSON API and metrics are served (`http:`).
    public var http = HTTPSettings()
    /// Where events (job done/failed/…, queue paused, …) are delivered: webhooks and commands.
    public var notify: [NotifyTarget] = []
    /// How long a job in flight may go without progress before a `job.stalled` event.
    public var stallAfter: Duration = .seconds(1800)
    /// The `instance` named in notifications (default: the host name).
    public var instance: String?
    /// This machine's name among the nodes sharing one state database (`node_name`; default: the host name). Each
    /// job a node works on is leased to this name.
    public var nodeName: String?
    /// How long a node's claim on a job lasts without a heartbeat (`lease`): a node that dies loses its jobs to the
    /// others this long after its last heartbeat. The heartbeat renews every third of it.
    public var lease: Duration = .seconds(60)

    /// ``nodeName``, or the host name.
    public var node: String { nodeName ?? ProcessInfo.processInfo.hostName }
    /// Where the state lives (`store`): nil for the embedded SQLite database in ``stateDirectory``, or a
    /// `postgres://USER@HOST:PORT/DATABASE` URL (never with a password) of the database several nodes share.
    public var store: String?
    /// A file holding the PostgreSQL password (`store_password_file`); without it, `PGPASSWORD`.
    public var storePasswordFile: String?

    /// Creates a configuration with every default: output folders beside the inbox, the provider's base URL.
    public init(inbox: String, stateDirectory: String, configFile: String? = nil) {
        let parent = (inbox as NSString).deletingLastPathComponent
        self.configFile = configFile
        self.inbox = inbox
        self.outbox = (parent as NSString).appendingPathComponent("outbox")
        self.failed = (parent as NSString).appendingPathComponent("failed")
        self.archive = (parent as NSString).appendingPathComponent("archive")
        self.baseURL = Provider.gateway.defaultBaseURL
        self.stateDirectory = stateDirectory
    }

    /// The retry policy these settings describe.
    public var retryPolicy: RetryPolicy {
        RetryPolicy(maxAttempts: maxAttempts, base: backoffBase, maxDelay: backoffMax)
    }
}
