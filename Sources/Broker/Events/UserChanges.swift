/// Where the broker learns that a user's data changed (events were stored for them, here or in
/// another replica): their event streams wake up and their cached reads are dropped.
struct UserChanges: Sendable {
    let hub: EventHub
    let cache: ReadCache

    func changed(mxUserGUID: String) async {
        cache.invalidate(mxUserGUID: mxUserGUID)
        await hub.publish(mxUserGUID: mxUserGUID)
    }

    /// A subject has an MX user now: streams it opened before it had one can follow it.
    func created(subject: String) async {
        await hub.publish(mxUserGUID: EventHub.waitingKey(subject: subject))
    }
}
