#!/usr/bin/env python3
"""Generate src/tables.rs from NUT 2.8.0's drivers/*-mib.c (data only).

Usage: preprocess each *-mib.c with `gcc -E -P` against empty stubs of
main.h, snmp-ups.h, dstate.h and eaton-pdu-marlin-helpers.h (the *-mib.h
files kept), with -DWITH_SNMP_LKP_FUN=1 -DWITH_SNMP_LKP_FUN_DUMMY=0, then
run: gen_tables.py <dir with the .i files> > src/tables.rs
"""
import re, sys, os

FLAGS = {
 'SU_FLAG_OK':1<<0,'SU_FLAG_STATIC':1<<1,'SU_FLAG_ABSENT':1<<2,'SU_FLAG_STALE':1<<3,
 'SU_FLAG_NEGINVALID':1<<4,'SU_FLAG_UNIQUE':1<<5,'SU_FLAG_ZEROINVALID':1<<6,
 'SU_FLAG_NAINVALID':1<<7,'SU_CMD_OFFSET':1<<8,'SU_FLAG_SEMI_STATIC':1<<9,
 'SU_OUTLET_GROUP':1<<10,'SU_OUTLET':1<<11,'SU_INPUT_1':1<<12,'SU_INPUT_3':1<<13,
 'SU_OUTPUT_1':1<<14,'SU_OUTPUT_3':1<<15,'SU_BYPASS_1':1<<16,'SU_BYPASS_3':1<<17,
 'SU_TYPE_INT':1<<18,'SU_TYPE_TIME':1<<19,'SU_TYPE_CMD':1<<20,'SU_TYPE_DAISY_1':1<<21,
 'SU_TYPE_DAISY_2':1<<22,'SU_DAISY':1<<23,'SU_TYPE_DAISY_MASTER_ONLY':1<<24,
 'SU_AMBIENT_TEMPLATE':1<<26,'SU_STATUS_PWR':1<<28,'SU_STATUS_BATT':1<<29,
 'SU_STATUS_CAL':1<<30,'SU_STATUS_RB':1<<31,
 'ST_FLAG_NONE':0,'ST_FLAG_RW':1,'ST_FLAG_STRING':2,'ST_FLAG_NUMBER':4,'ST_FLAG_IMMUTABLE':8,
 'SU_INFOSIZE':128,'SU_BUFSIZE':32,'SU_LARGEBUF':256,
}
FUNS = {'eaton_sensor_temperature_unit_fun':'TemperatureUnit','su_temperature_read_fun':'TemperatureRead',
        'marlin_device_count_fun':'MarlinDeviceCount'}

TOK = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_]*)|(0[xX][0-9a-fA-F]+[uUlL]*|[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?[uUlLfF]*)|(<<|.))', re.S)

def tokenize(s):
    out=[]; pos=0
    while pos < len(s):
        m = TOK.match(s, pos)
        if not m: break
        pos = m.end()
        if m.group(1) is not None: out.append(('s', bytes(m.group(1)[1:-1],'utf-8').decode('unicode_escape')))
        elif m.group(2) is not None: out.append(('i', m.group(2)))
        elif m.group(3) is not None: out.append(('n', m.group(3)))
        elif m.group(4) is not None and m.group(4).strip(): out.append(('p', m.group(4)))
    # join adjacent strings
    j=[]
    for t in out:
        if t[0]=='s' and j and j[-1][0]=='s': j[-1]=('s', j[-1][1]+t[1])
        else: j.append(t)
    return j

def split_top(toks):
    """split tokens of one brace group content at top-level commas"""
    parts=[[]]; depth=0
    for t in toks:
        if t==('p','{') or t==('p','('): depth+=1
        if t==('p','}') or t==('p',')'): depth-=1
        if t==('p',',') and depth==0: parts.append([]); continue
        parts[-1].append(t)
    if parts and parts[-1]==[]: parts.pop()
    return parts

def group(toks, i):
    """toks[i] == '{'; return (content tokens, index after matching '}')"""
    depth=0; j=i
    while True:
        if toks[j]==('p','{'): depth+=1
        elif toks[j]==('p','}'):
            depth-=1
            if depth==0: return toks[i+1:j], j+1
        j+=1

def ev(expr):
    s=''
    for k,v in expr:
        if k=='i':
            if v=='NULL': s+='0'
            else: s+=str(FLAGS[v])
        elif k=='n': s+=re.sub(r'[uUlLfF]+$','',v) if not v.lower().startswith('0x') else str(int(re.sub(r'[uUlL]+$','',v),16))
        else: s+=v
    return eval(s)

def val(expr):
    if len(expr)==1 and expr[0]==('i','NULL'): return None
    if len(expr)==1 and expr[0][0]=='s': return expr[0][1]
    return ev(expr)

def ref(expr):
    if expr==[('i','NULL')]: return None
    names=[v for k,v in expr if k=='i']
    return names[0]

def rs(s):
    if s is None or s == 0: return 'None'
    return 'Some(%s)' % q(s)
def q(s):
    return '"' + s.replace('\\','\\\\').replace('"','\\"') + '"'

def parse_file(path):
    toks = tokenize(open(path).read())
    lookups={}; rows={}; alarms={}; mappings={}
    order=[]
    i=0
    while i < len(toks):
        t=toks[i]
        if t[0]=='i' and t[1] in ('info_lkp_t','snmp_info_t','alarms_info_t') and toks[i+2]==('p','['):
            kind=t[1]; name=toks[i+1][1]
            # find '=' then '{'
            j=i
            while toks[j]!=('p','=') and toks[j]!=('p',';'): j+=1
            if toks[j]==('p',';'): i=j+1; continue
            content, i = group(toks, j+1)
            entries=[group(e,0)[0] for e in split_top(content)]
            if kind=='info_lkp_t':
                ents=[]; fun=None
                for e in entries:
                    f=split_top(e)
                    v=val(f[0]); s=val(f[1])
                    if len(f)>2:
                        fn=ref(f[2]) or ref(f[3]) if len(f)>3 else ref(f[2])
                        if fn: fun=FUNS[fn]
                    if s is None: break
                    ents.append((v,s))
                lookups[name]=(ents,fun); order.append(('l',name))
            elif kind=='snmp_info_t':
                rr=[]
                for e in entries:
                    f=split_top(e)
                    nm=val(f[0])
                    if nm is None: break
                    rr.append((nm, ev(f[1]), float(ev(f[2])), val(f[3]), val(f[4]), ev(f[5]) & 0xffffffff, ref(f[6])))
                rows[name]=rr; order.append(('r',name))
            else:
                aa=[]
                for e in entries:
                    f=split_top(e)
                    o=val(f[0])
                    if o is None: break
                    aa.append((o,val(f[1]),val(f[2])))
                alarms[name]=aa; order.append(('a',name))
            continue
        if t==('i','mib2nut_info_t') and toks[i+2]==('p','='):
            name=toks[i+1][1]
            content, i = group(toks, i+3)
            f=split_top(content)
            mappings[name]=(val(f[0]),val(f[1]),val(f[2]),val(f[3]),ref(f[4]),val(f[5]),ref(f[6]) if len(f)>6 else None)
            continue
        i+=1
    return lookups, rows, alarms, mappings

def fmtf(x):
    r=repr(x)
    return r

SHARED = {'su_convert_to_iso_date_info'}
AUTO = ['apc_ats','apc_pdu_rpdu','apc_pdu_rpdu2','apc_pdu_msp','apc','baytech','bestpower','compaq','cyberpower',
        'delta_ups','eaton_ats16_nmc','eaton_ats16_nm2','eaton_ats30','eaton_marlin','emerson_avocent_pdu',
        'aphel_revelation','aphel_genesisII','pulizzi_switched1','pulizzi_switched2','hpe_pdu','huawei','mge',
        'netvision','powerware','pxgx_ups','raritan','raritan_px2','xppc','tripplite_ietf','ietf']

def main():
    d=sys.argv[1]
    out=[]
    w=out.append
    w('//! The MIB mappings of NUT 2.8.0 `snmp-ups`, one module per `drivers/*-mib.c`,')
    w('//! and [`MAPPINGS`], all of them in `mibs=auto` order.')
    w('')
    w('// @generated by tools/gen_tables.py from NUT 2.8.0 drivers/*-mib.c (tables as data).')
    w('// Do not edit by hand: change the generator and run it again.')
    w('')
    w('use crate::mib::{AlarmInfo, Lookup, LookupEntry, LookupFn, Mapping, Row};')
    w('')
    allmaps={}
    w('/// `su_convert_to_iso_date_info` of NUT 2.8.0 `drivers/snmp-ups-helpers.c`:')
    w('/// a US date `mm/dd/yyyy` shown as an ISO 8601 date.')
    w('pub static SU_CONVERT_TO_ISO_DATE_INFO: Lookup = Lookup {')
    w('    name: "su_convert_to_iso_date_info",')
    w('    entries: &[LookupEntry { value: 1, info: "dummy" }],')
    w('    fun: Some(LookupFn::UsDateToIsoDate),')
    w('};')
    w('')
    for fn in sorted(os.listdir(d)):
        if not fn.endswith('.i'): continue
        mod=fn[:-2].replace('-mib','').replace('-','_')
        L,R,A,M=parse_file(os.path.join(d,fn))
        w('/// Tables of NUT 2.8.0 `drivers/%s.c`.' % fn[:-2])
        w('#[allow(missing_docs)]')
        w('pub mod %s {' % mod)
        w('    use super::*;')
        for kind,name in [('l',n) for n in L]:
            ents,fun=L[name]
            w('    /// Lookup `%s`.' % name)
            w('    pub static %s: Lookup = Lookup {' % name.upper())
            w('        name: %s,' % q(name))
            w('        entries: &[')
            for v,s in ents:
                w('            LookupEntry { value: %d, info: %s },' % (v, q(s)))
            w('        ],')
            w('        fun: %s,' % ('Some(LookupFn::%s)' % fun if fun else 'None'))
            w('    };')
        for name,rr in R.items():
            w('    /// Rows of `%s`.' % name)
            w('    pub static %s: &[Row] = &[' % name.upper())
            for (nm,vf,ln,oid,dfl,fl,lk) in rr:
                if lk and lk not in L and lk not in SHARED: raise SystemExit('missing lookup %s' % lk)
                lks = ('Some(&%s)' % lk.upper()) if lk in L else ('Some(&super::%s)' % lk.upper()) if lk else 'None'
                w('        Row { name: %s, var_flags: %d, len: %s, oid: %s, dfl: %s, flags: 0x%08x, lookup: %s },' %
                  (q(nm), vf, fmtf(ln), rs(oid), rs(dfl), fl, lks))
            w('    ];')
        for name,aa in A.items():
            w('    /// Alarms of `%s`.' % name)
            w('    pub static %s: &[AlarmInfo] = &[' % name.upper())
            for o,s,a in aa:
                w('        AlarmInfo { oid: %s, status: %s, alarm: %s },' % (q(o), rs(s), rs(a)))
            w('    ];')
        for name,(mn,ver,pwr,auto,rows,sysoid,al) in M.items():
            allmaps[name]=mod
            w('    /// Mapping `%s` (`mibs=%s`).' % (name, mn))
            w('    pub static %s: Mapping = Mapping {' % name.upper())
            w('        name: %s,' % q(mn))
            w('        version: %s,' % q(ver))
            w('        power_status_oid: %s,' % rs(pwr))
            w('        auto_check_oid: %s,' % rs(auto))
            w('        sysoid: %s,' % rs(sysoid))
            w('        rows: %s,' % rows.upper())
            w('        alarms: %s,' % (al.upper() if al else '&[]'))
            w('    };')
        w('}')
        w('')
    w('/// Every mapping of NUT 2.8.0 `snmp-ups`, in its `mibs=auto` order.')
    w('pub static MAPPINGS: &[&Mapping] = &[')
    for n in AUTO:
        w('    &%s::%s,' % (allmaps[n], n.upper()))
    w('];')
    print('\n'.join(out))
main()
