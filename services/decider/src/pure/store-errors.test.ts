import { Firestore } from '@google-cloud/firestore';
import { errorKind, ErrorKinds, PermanentError } from '@burnback/contracts';
import { classifyStoreError, neverSucceeds } from './store-errors.js';

/** What the Firestore client throws for a document path it will never accept (it throws before any request). */
const clientRefusal = (id: string): unknown => {
  const db = new Firestore({ projectId: 'store-errors-test' });
  try {
    db.collection('incidents').doc(id);
  } catch (err) {
    return err;
  }
  throw new Error(`the client accepted incidents/${id}`);
};
/** A gRPC error as the Firestore client reports it (as the emulator answered for `__x__`, `..` and a 1,600-byte id). */
const grpcError = (code: number, message: string) => Object.assign(new Error(`${code} ${message}`), { code, details: message });

describe('classifyStoreError', () => {
  it.each(['x/y', 'a//b', ''])('a path the client refuses (%j) is permanent: it will never succeed', (id) => {
    const err = classifyStoreError(clientRefusal(id), 'decision transaction');
    expect(errorKind(err)).toBe(ErrorKinds.permanent);
    expect(err.message).toMatch(/^decision transaction can never succeed: the Firestore client refused the path: Value for argument/);
  });

  it.each([
    [3, 'INVALID_ARGUMENT: Resource id "__x__" is invalid because it is reserved.'],
    [3, 'INVALID_ARGUMENT: The key path element name is longer than 1500 bytes.'],
    [11, 'OUT_OF_RANGE: value out of range'],
  ])('Firestore answering gRPC %i is permanent, with the code in the reason', (code, message) => {
    const err = classifyStoreError(grpcError(code, message), 'progress transaction');
    expect(errorKind(err)).toBe(ErrorKinds.permanent);
    expect(err.message).toContain(`progress transaction can never succeed: Firestore refused it (gRPC ${code} `);
    expect(err.message).toContain(message);
  });

  it.each([
    [14, 'UNAVAILABLE: connection reset'],
    [4, 'DEADLINE_EXCEEDED'],
    [10, 'ABORTED: too much contention'],
    [9, 'FAILED_PRECONDITION: the query requires an index'],
    [8, 'RESOURCE_EXHAUSTED: quota'],
  ])('gRPC %i may succeed later: transient', (code, message) => {
    const err = classifyStoreError(grpcError(code, message), 'decision transaction');
    expect(errorKind(err)).toBe(ErrorKinds.transient);
    expect(err.message).toBe(`decision transaction failed: ${code} ${message}`);
  });

  it.each([
    'INVALID_ARGUMENT: Transaction is invalid or closed.',
    'INVALID_ARGUMENT: The referenced transaction has expired or is no longer valid.',
  ])('INVALID_ARGUMENT about a transaction the server closed (%j) is transient: a new transaction succeeds', (message) => {
    const err = classifyStoreError(grpcError(3, message), 'decision transaction');
    expect(errorKind(err)).toBe(ErrorKinds.transient);
    expect(neverSucceeds(grpcError(3, message))).toBeNull();
    // Only that: an INVALID_ARGUMENT that merely mentions a transaction is still the request's fault.
    expect(neverSucceeds(grpcError(3, 'INVALID_ARGUMENT: a transaction may hold at most 500 writes'))).toBe(
      'Firestore refused it (gRPC 3 INVALID_ARGUMENT)',
    );
  });

  it('an error with no code and no refusal in its message is transient (the client closing, a socket)', () => {
    expect(errorKind(classifyStoreError(new Error('The client has already been terminated'), 'x'))).toBe(ErrorKinds.transient);
    expect(errorKind(classifyStoreError('a string', 'x'))).toBe(ErrorKinds.transient);
    expect(neverSucceeds(null)).toBeNull();
    expect(neverSucceeds(undefined)).toBeNull();
    expect(classifyStoreError(undefined, 'x')).toMatchObject({ message: 'x failed: undefined' });
    expect(errorKind(classifyStoreError(undefined, 'x'))).toBe(ErrorKinds.transient);
    expect(neverSucceeds({ code: '3', message: 'a string code is not gRPC' })).toBeNull();
  });

  it('a PermanentError stays itself; a stored document that does not parse is permanent', () => {
    const permanent = new PermanentError('already known');
    expect(classifyStoreError(permanent, 'x')).toBe(permanent);
    const zod = Object.assign(new Error('Expected string, received number'), { name: 'ZodError' });
    const err = classifyStoreError(zod, 'x');
    expect(errorKind(err)).toBe(ErrorKinds.permanent);
    expect(err.message).toBe('a stored document is invalid: Expected string, received number');
  });

  it.each([
    ['an array', ['Value for argument "documentPath" must point to a document']],
    ['an object that prints as one', { toString: (): string => 'Path must not be empty' }],
  ])('only a message that is a string is read as the client refusing: not %s', (_kind, message) => {
    expect(neverSucceeds({ message })).toBeNull();
    expect(errorKind(classifyStoreError({ message }, 'x'))).toBe(ErrorKinds.transient);
  });

  it('the classified error keeps the store error as its cause', () => {
    const zod = Object.assign(new Error('Expected string, received number'), { name: 'ZodError' });
    const refused = grpcError(3, 'INVALID_ARGUMENT: bad');
    const unavailable = grpcError(14, 'UNAVAILABLE: connection reset');
    expect(classifyStoreError(zod, 'x').cause).toBe(zod);
    expect(classifyStoreError(refused, 'x').cause).toBe(refused);
    expect(classifyStoreError(unavailable, 'x').cause).toBe(unavailable);
  });

  it('the message patterns are anchored where they must be: a reason merely quoting one is not a refusal', () => {
    expect(neverSucceeds(new Error('retrying: Value for argument "x" was fine'))).toBeNull();
    expect(neverSucceeds(new Error('Value for argument "documentPath" must point to a document'))).toBe(
      'the Firestore client refused the path',
    );
  });
});
