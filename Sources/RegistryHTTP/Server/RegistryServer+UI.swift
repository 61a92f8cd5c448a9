import Foundation
import Logging
import RegistryCore
import RegistryService
import RegistryStorage
import RegistryUI

extension RegistryServer {
    /// The web UI as `berth.ui` configures it; nil when `berth.ui.enabled` is false.
    func webUI(
        service: RegistryService, signIn: WebUISettings.SignIn, health: HealthMonitor, stores: RegistryStores
    ) throws -> WebUI? {
        guard configuration.berth.ui.enabled else { return nil }
        let metadata = stores.metadata
        let settings = WebUISettings(
            signIn: signIn, policy: configuration.berth.access, secret: configuration.http.secret,
            secureCookies: configuration.http.tls != nil, sessionLifetime: configuration.berth.ui.sessionLifetime,
            version: Self.version, startedAt: Date(), health: { await health.report() },
            statistics: { try await metadata.statistics() })
        return try WebUI(service: service, settings: settings, logger: logger)
    }
}
