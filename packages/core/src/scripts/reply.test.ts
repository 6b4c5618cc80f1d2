import { ScriptCode } from '../errors';
import { cancelledPairs, hashOf, scriptCodeName, UnexpectedReplyError } from './reply';

/** The decoding every wrapper shares: its `default` branch is scriptCodeName refusing a code it does not know. */
describe('script replies', () => {
  it('scriptCodeName names every code of ScriptCode, and refuses any other (a Lua file and its wrapper disagree)', () => {
    for (const [name, code] of Object.entries(ScriptCode)) expect(scriptCodeName(code)).toBe(name);
    expect(scriptCodeName('-3')).toBe('illegalTransition');
    expect(() => scriptCodeName(-99)).toThrow(UnexpectedReplyError);
    // A nil, empty or missing reply is not `ok` (Number() would make each of them 0).
    for (const reply of [null, undefined, '', [], '0x0']) expect(() => scriptCodeName(reply)).toThrow(UnexpectedReplyError);
    expect(() => scriptCodeName(null)).toThrow('script: unexpected reply null');
  });

  it('cancelledPairs and hashOf read flat replies, ignoring a dangling last element', () => {
    expect(cancelledPairs(['a', 'running', 'b', 'queued', 'c'])).toEqual([
      { taskId: 'a', previous: 'running' },
      { taskId: 'b', previous: 'queued' },
    ]);
    expect(hashOf(['status', 'running', 'turns', '2'])).toEqual({ status: 'running', turns: '2' });
    expect(hashOf([])).toEqual({});
  });
});
