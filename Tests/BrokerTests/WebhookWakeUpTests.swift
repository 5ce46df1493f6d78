import Testing

@testable import Broker

@Suite("Waking the inbox workers")
struct WebhookWakeUpTests {
    @Test("an idle wait lasts its timeout every time, not only the first")
    func idleWaitsWait() async {
        let wakeUp = WebhookWakeUp()
        for _ in 0..<3 {
            let started = ContinuousClock.now
            await wakeUp.wait(upTo: .milliseconds(100))
            #expect(ContinuousClock.now - started >= .milliseconds(90))
        }
    }

    @Test("a signal ends a wait early, and one given while no one waits ends the next wait at once")
    func signals() async {
        let wakeUp = WebhookWakeUp()
        let started = ContinuousClock.now
        async let waited: Void = wakeUp.wait(upTo: .seconds(5))
        try? await Task.sleep(for: .milliseconds(100))
        wakeUp.signal()
        await waited
        // Well short of the 5 s timeout, with room for a loaded machine's scheduling.
        #expect(ContinuousClock.now - started < .seconds(4))

        wakeUp.signal()
        let again = ContinuousClock.now
        await wakeUp.wait(upTo: .seconds(5))
        #expect(ContinuousClock.now - again < .seconds(4))
    }
}
