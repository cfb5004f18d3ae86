import { documentIdProblem } from '../src/index.js';

describe('route parameters that cannot be a Firestore document id (found by the fuzz suite: each was a 500)', () => {
  it.each([
    ['', 'is empty'],
    ['a/b', "contains '/'"],
    ['/', "contains '/'"],
    ['.', "is '.' or '..'"],
    ['..', "is '.' or '..'"],
    ['__reserved__', 'is a reserved name (__…__)'],
    ['____', 'is a reserved name (__…__)'],
    ['x'.repeat(1501), 'is longer than 1500 bytes'],
    ['é'.repeat(751), 'is longer than 1500 bytes'],
  ])('%j %s', (id, problem) => {
    expect(documentIdProblem(id)).toBe(problem);
  });

  it.each(['rb-0123456789abcdef', '0.nx8k2f1q7d3a', '...', '__x', 'x__', '_x_', 'x'.repeat(1500), 'é'.repeat(750), '💥'])(
    '%j is an id',
    (id) => {
      expect(documentIdProblem(id)).toBeNull();
    },
  );
});
