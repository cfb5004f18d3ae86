// Emulator round trips (topic creation, transactions under the emulator's lock timeouts) need more than jest's 5 s default.
jest.setTimeout(60_000);

// The Google clients settle some calls after close() resolves (a subscriber's last ack or modAck, a cancelled
// unary call): their callbacks decode the gRPC error status, which lazily `require`s a proto file. After jest
// tears a test file's environment down, that require returns undefined and the callback throws outside any test,
// which ends the whole run ("jest did not finish"; seen once in CI after the front-door suite). Letting the
// clients' callbacks run out while the environment still exists keeps such a late error where it belongs.
afterAll(async () => {
  await new Promise((resolve) => setTimeout(resolve, 500));
});
