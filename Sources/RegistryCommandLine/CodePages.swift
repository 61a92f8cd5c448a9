import CSystemExtras

/// Gives back the pages of code that only starting up ran.
///
/// The kernel maps an executable's code as it runs, 64 KiB around each page touched
/// (fault-around), and keeps it mapped. Starting registryd runs code that serving never runs
/// again (configuration, migrations, TLS and route setup, the Swift runtime's first scans of
/// its metadata), so an idle registryd held 41 MiB of code pages of its 46 MiB. Those pages
/// are read-only and backed by the files, so dropping them from the process costs nothing but
/// a minor fault for each page that runs again, from the page cache. Measured on SQLite and the
/// filesystem: idle 47 → 18 MiB; after 12 s of manifest, blob and tag list GETs 54 → 40 MiB.
public enum CodePages {
    /// Drops the code pages mapped so far; the ones serving needs come back as it runs.
    /// Writable and anonymous memory are never touched (see `system_extras_release_code_pages`).
    @discardableResult
    public static func releaseMapped() -> Int {
        Int(system_extras_release_code_pages())
    }

    /// How long after start ``releaseMapped()`` runs a second time: long enough for the
    /// server to have opened its stores and be listening.
    public static let afterStartup: Duration = .seconds(5)
}
