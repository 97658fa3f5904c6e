import { describe, expect, it } from 'vitest';
import { AppError } from '../../common/errors.ts';
import { readXmpPeople, writeXmpPeople } from './xmp.ts';

// as digiKam 8 writes a sidecar: MWG regions with nested descriptions, the same face as a Windows Live region, tags
const DIGIKAM = `<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?>
<x:xmpmeta xmlns:x="adobe:ns:meta/" x:xmptk="XMP Core 4.4.0-Exiv2">
 <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
  <rdf:Description rdf:about="" xmlns:xmp="http://ns.adobe.com/xap/1.0/" xmlns:digiKam="http://www.digikam.org/ns/1.0/"
    xmlns:MP="http://ns.microsoft.com/photo/1.2/" xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#"
    xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#" xmlns:mwg-rs="http://www.metadataworkinggroup.com/schemas/regions/"
    xmlns:stDim="http://ns.adobe.com/xap/1.0/sType/Dimensions#" xmlns:stArea="http://ns.adobe.com/xmp/sType/Area#"
    xmlns:dc="http://purl.org/dc/elements/1.1/" xmp:Rating="4">
   <digiKam:TagsList><rdf:Seq><rdf:li>People/Anna Müller</rdf:li></rdf:Seq></digiKam:TagsList>
   <MP:RegionInfo rdf:parseType="Resource">
    <MPRI:Regions><rdf:Bag><rdf:li MPReg:PersonDisplayName="Anna Müller" MPReg:Rectangle="0.1, 0.2, 0.3, 0.4"/></rdf:Bag></MPRI:Regions>
   </MP:RegionInfo>
   <mwg-rs:Regions rdf:parseType="Resource">
    <mwg-rs:AppliedToDimensions stDim:w="4000" stDim:h="3000" stDim:unit="pixel"/>
    <mwg-rs:RegionList><rdf:Bag>
     <rdf:li><rdf:Description mwg-rs:Name="Anna Müller" mwg-rs:Type="Face"><mwg-rs:Area stArea:x="0.25" stArea:y="0.4" stArea:w="0.3" stArea:h="0.4" stArea:unit="normalized"/></rdf:Description></rdf:li>
     <rdf:li><rdf:Description mwg-rs:Name="Bob &amp; Co" mwg-rs:Type="Face"><mwg-rs:Area stArea:x="0.75" stArea:y="0.5" stArea:w="0.2" stArea:h="0.2" stArea:unit="normalized"/></rdf:Description></rdf:li>
     <rdf:li><rdf:Description mwg-rs:Name="Eiffel tower" mwg-rs:Type="Focus"><mwg-rs:Area stArea:x="0.5" stArea:y="0.5" stArea:w="0.1" stArea:h="0.1" stArea:unit="normalized"/></rdf:Description></rdf:li>
    </rdf:Bag></mwg-rs:RegionList>
   </mwg-rs:Regions>
   <dc:subject><rdf:Bag><rdf:li>Anna Müller</rdf:li><rdf:li>holiday</rdf:li></rdf:Bag></dc:subject>
  </rdf:Description>
 </rdf:RDF>
</x:xmpmeta>
<?xpacket end="w"?>`;

const near = (a: number, b: number) => Math.abs(a - b) < 1e-6;

describe('XMP people', () => {
  it('reads digiKam-style MWG regions once per face, centre coordinates to corners, other region types left out', () => {
    const r = readXmpPeople(DIGIKAM);
    expect(r.dims).toEqual({ w: 4000, h: 3000 });
    expect(r.keywords).toEqual(['Anna Müller', 'holiday']);
    expect(r.regions.map((x) => x.name)).toEqual(['Anna Müller', 'Bob & Co']);
    const anna = r.regions[0]!;
    expect([anna.x, anna.y, anna.w, anna.h].every((v, i) => near(v, [0.1, 0.2, 0.3, 0.4][i]!))).toBe(true);
  });

  it('reads Windows Live Photo Gallery regions and parseType=Resource list items', () => {
    const mp = `<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">
      <rdf:Description rdf:about="" xmlns:MP="http://ns.microsoft.com/photo/1.2/" xmlns:MPRI="http://ns.microsoft.com/photo/1.2/t/RegionInfo#" xmlns:MPReg="http://ns.microsoft.com/photo/1.2/t/Region#">
      <MP:RegionInfo><rdf:Description><MPRI:Regions><rdf:Bag>
        <rdf:li rdf:parseType="Resource"><MPReg:Rectangle>0.5, 0.5, 0.25, 0.25</MPReg:Rectangle><MPReg:PersonDisplayName>Chen</MPReg:PersonDisplayName></rdf:li>
      </rdf:Bag></MPRI:Regions></rdf:Description></MP:RegionInfo></rdf:Description></rdf:RDF></x:xmpmeta>`;
    expect(readXmpPeople(mp).regions).toEqual([{ name: 'Chen', x: 0.5, y: 0.5, w: 0.25, h: 0.25 }]);
  });

  it('writes a new sidecar that reads back the same', () => {
    const regions = [{ name: 'Anna', x: 0.1, y: 0.2, w: 0.3, h: 0.4 }, { name: null, x: 0.6, y: 0.1, w: 0.2, h: 0.2 }];
    const xml = writeXmpPeople(null, { dims: { w: 1024, h: 768 }, regions });
    expect(xml.startsWith('<?xpacket begin="\uFEFF"')).toBe(true);
    const back = readXmpPeople(xml);
    expect(back.dims).toEqual({ w: 1024, h: 768 });
    expect(back.keywords).toEqual(['Anna']);
    expect(back.regions.length).toBe(2);
    back.regions.forEach((r, i) => {
      expect(r.name).toBe(regions[i]!.name);
      for (const k of ['x', 'y', 'w', 'h'] as const) expect(near(r[k], regions[i]![k])).toBe(true);
    });
    expect(xml).toContain('People|Anna');
  });

  it('updates an existing sidecar: keeps its other properties, keywords and non-face regions, replaces the faces it writes', () => {
    const xml = writeXmpPeople(DIGIKAM, { dims: { w: 4000, h: 3000 }, regions: [{ name: 'Anna Schmidt', x: 0.11, y: 0.2, w: 0.3, h: 0.4 }] });
    expect(xml).toContain('xmp:Rating="4"');
    expect(xml).toContain('People/Anna Müller'); // digiKam's own tag list is digiKam's
    expect(xml).toContain('Eiffel tower');
    const back = readXmpPeople(xml);
    // the face at the same place is replaced (its MWG and its Microsoft region), Bob stays
    expect(back.regions.map((r) => r.name)).toEqual(['Bob & Co', 'Anna Schmidt']);
    expect(xml).not.toContain('PersonDisplayName="Anna Müller"');
    expect(back.keywords).toEqual(['Anna Müller', 'holiday', 'Anna Schmidt']);
    // idempotent: writing the same again changes nothing
    expect(writeXmpPeople(xml, { dims: { w: 4000, h: 3000 }, regions: [{ name: 'Anna Schmidt', x: 0.11, y: 0.2, w: 0.3, h: 0.4 }] })).toBe(xml);
  });

  it('refuses what is not XMP with BAD_FILE naming it', () => {
    for (const bad of ['<x:xmpmeta><rdf:RDF>', 'just text', '<a><b></a>']) {
      let e: unknown;
      try { readXmpPeople(bad, '/photos/a.jpg.xmp'); } catch (x) { e = x; }
      expect(e).toBeInstanceOf(AppError);
      expect((e as AppError).code).toBe('BAD_FILE');
      expect((e as AppError).message).toContain('/photos/a.jpg.xmp');
    }
  });
});
