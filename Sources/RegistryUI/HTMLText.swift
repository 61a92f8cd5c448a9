import Mustache

/// HTML put together in Swift, for the rows of the long lists, where every value interpolated
/// into it is escaped with ``HTMLEscaping``.
///
/// Why not Mustache for the rows: the template library finds each `{{value}}` through a chain
/// of dynamic casts (is it a representation, a parent, a template, a renderable, a lambda, an
/// optional?), about ten per value, and a 50-row page has a thousand values: that was two
/// thirds of a page's time in a release build. The page around the rows stays a template.
///
/// Safe by construction: literal segments can only be `StaticString`s written in this module's
/// source, and every interpolated `String` is escaped; only another `HTMLText` is inserted as
/// it is. A template shows one with a triple mustache (`{{{tagRows}}}`), the only kind of value
/// the templates show that way (`WebUIFormattingTests` checks it).
struct HTMLText: MustacheCustomRenderable, ExpressibleByStringInterpolation, Sendable {
    private(set) var html: String

    var renderText: String { html }

    var isNull: Bool { false }

    init() { html = "" }

    init(stringLiteral literal: StaticString) { html = literal.description }

    init(stringInterpolation: Interpolation) { html = stringInterpolation.html }

    mutating func append(_ other: HTMLText) { html += other.html }

    struct Interpolation: StringInterpolationProtocol {
        var html = ""

        init(literalCapacity: Int, interpolationCount: Int) {
            html.reserveCapacity(literalCapacity + interpolationCount * 24)
        }

        mutating func appendLiteral(_ literal: StaticString) { html += literal.description }

        /// Text: escaped.
        mutating func appendInterpolation(_ text: String) { html += HTMLEscaping.escape(text) }

        mutating func appendInterpolation(_ number: Int) { html += String(number) }

        /// Markup already built the same way: as it is.
        mutating func appendInterpolation(_ fragment: HTMLText) { html += fragment.html }
    }
}

extension Sequence<HTMLText> {
    /// The fragments one after another.
    func joined() -> HTMLText {
        reduce(into: HTMLText()) { $0.append($1) }
    }
}
