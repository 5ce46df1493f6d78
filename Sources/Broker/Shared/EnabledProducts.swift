import HTTPTypes
import MXPlatform

/// The MX products the operator lets front ends ask for (`MX_PRODUCTS`): premium products are
/// charged by MX per call, so a front end may ask only for what the operator has chosen.
struct EnabledProducts: Sendable {
    let products: Set<MXProduct>

    /// Refuses with 403 `product_not_enabled` when any of `requested` is not enabled.
    func check(_ requested: some Sequence<MXProduct>) throws(BrokerError) {
        guard let refused = requested.filter({ !products.contains($0) }).min() else { return }
        throw BrokerError(.forbidden, .productNotEnabled, "The \(refused.rawValue) product is not enabled on this broker (MX_PRODUCTS).")
    }
}

extension ConnectSettings {
    var enabledProducts: EnabledProducts { EnabledProducts(products: products) }
}
