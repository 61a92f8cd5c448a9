import Logging
import RegistryCore
import RegistryStorage
import ServiceLifecycle

/// `berth.audit` put together: the queue requests record into, and the service that writes it.
struct AuditTrail {
    let queue: AuditQueue
    let service: AuditLogService

    /// Nil when `berth.audit` is not configured. Fails with an ``InvalidSetting`` when the file
    /// cannot be opened, before the server listens.
    static func open(_ settings: RegistryConfiguration.Audit?, logger: Logger) throws -> AuditTrail? {
        guard let settings else { return nil }
        let file: AuditLogFile
        do {
            file = try AuditLogFile(settings)
        } catch {
            throw InvalidSetting(key: "berth.audit.path", message: "cannot open \(settings.path) (\(error))")
        }
        let queue = AuditQueue()
        return AuditTrail(queue: queue, service: AuditLogService(queue: queue, file: file, logger: logger))
    }
}
