import AsyncHTTPClient
import Foundation
import Logging
import RegistryCore
import RegistryService
import ServiceLifecycle

/// `notifications.endpoints`: the service that writes events, and one delivery service per endpoint.
extension RegistryServer {
    /// The service writing events when an endpoint is enabled and the store keeps an outbox.
    func notifying(_ service: RegistryService) -> RegistryService {
        let endpoints = configuration.notifications.endpoints
        guard !endpoints.isEmpty else { return service }
        let instanceID = UUID().uuidString.lowercased()
        let source = RegistryEvent.Source(
            addr: "\(ProcessInfo.processInfo.hostName):\(configuration.http.port)", instanceID: instanceID)
        let recordsPulls = endpoints.contains { !$0.ignoredActions.contains(RegistryEvent.Action.pull.rawValue) }
        let notifying = service.notifying(source: source, recordsPulls: recordsPulls)
        if notifying.notifier == nil {
            logger.warning("notifications.endpoints: the metadata store keeps no event outbox; no events are sent")
        }
        return notifying
    }

    /// Delivery to each endpoint, and the writing of queued pull events.
    func notificationServices(_ service: RegistryService) -> [any Service] {
        guard let notifier = service.notifier else { return [] }
        let endpoints = configuration.notifications.endpoints
        let names = endpoints.map(\.name)
        let owner = notifier.source.instanceID ?? UUID().uuidString
        var services: [any Service] = [PullEventFlushingService(notifier: notifier, logger: logger)]
        for endpoint in endpoints {
            services.append(
                EventDeliveryService(
                    endpoint: endpoint, outbox: notifier.outbox, endpointNames: names, owner: owner,
                    client: HTTPClient.shared, logger: logger))
        }
        return services
    }

    /// The API middleware that binds each request's event origin.
    var eventOriginMiddleware: EventOriginMiddleware? {
        guard !configuration.notifications.endpoints.isEmpty else { return nil }
        return EventOriginMiddleware(
            externalURL: configuration.http.externalURL, prefix: configuration.routePrefix,
            scheme: configuration.http.tls == nil ? "http" : "https")
    }
}
