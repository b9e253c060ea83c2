// A DKIM-Signature's tags as compare and check read them: folded over lines, with FWS around the
// tags and inside b= (RFC 6376 §3.2, §3.5).
import { describe, expect, it } from 'vitest';
import { dkimTags } from './relayed.ts';

describe('dkimTags', () => {
  it("reads exim's folded signature: every tag, whitespace gone from values, h= kept whole", () => {
    const value =
      ' v=1; a=ed25519-sha256; q=dns/txt; c=relaxed/relaxed;\r\n\td=sstt4331.org; s=ed25519; h=Date:Message-Id:\r\n\tSubject:To:From;\r\n\tbh=5wPL=; b=Wg4j\r\n\tzEw5==;';
    expect(dkimTags(value)).toEqual({
      v: '1',
      a: 'ed25519-sha256',
      q: 'dns/txt',
      c: 'relaxed/relaxed',
      d: 'sstt4331.org',
      s: 'ed25519',
      h: 'Date:Message-Id:Subject:To:From',
      bh: '5wPL=',
      b: 'Wg4jzEw5==',
    });
  });
});
