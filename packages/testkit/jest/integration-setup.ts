// Emulator round trips (topic creation, transactions under the emulator's lock timeouts) need more than jest's 5 s default.
jest.setTimeout(60_000);
