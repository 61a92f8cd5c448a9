import Logging
import RegistryCore

public enum LogSetup {
    /// Sets up swift-log from `log.level`, `log.formatter` (`text` or `json`) and `log.fields`.
    public static func bootstrap(_ settings: RegistryConfiguration.Log) -> Logger {
        let level: Logger.Level =
            switch settings.level {
            case .error: .error
            case .warning: .warning
            case .info: .info
            case .debug: .debug
            case .trace: .trace
            }
        let json = settings.formatter == .json
        LoggingSystem.bootstrap { label in
            var handler: any LogHandler =
                json ? JSONLogHandler(label: label) : DeferredMetadataLogHandler(StreamLogHandler.standardOutput(label: label))
            handler.logLevel = level
            return handler
        }
        var logger = Logger(label: "registryd")
        logger.logLevel = level
        for (key, value) in settings.fields {
            logger[metadataKey: key] = .string(value)
        }
        return logger
    }
}
