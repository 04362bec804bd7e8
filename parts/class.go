package parts

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Class is a 4-digit minor class, major*100+minor: 0101 is a water-supply
// manhole cover, 0118 a street lamp. It prints with its leading zero.
type Class uint16

// ParseClass parses a 4-digit minor class such as "0101".
func ParseClass(s string) (Class, error) {
	if len(s) != 4 {
		return 0, &FieldError{Field: "class", Reason: fmt.Sprintf("%q is not a 4-digit minor class", s), Err: ErrUnknownClass}
	}
	v, err := strconv.ParseUint(s, 10, 16)
	if err != nil || v%100 == 0 || v < 100 {
		return 0, &FieldError{Field: "class", Reason: fmt.Sprintf("%q is not a 4-digit minor class", s), Err: ErrUnknownClass}
	}
	return Class(v), nil
}

// Major returns the 2-digit major class (1 public utilities ... 6 other).
func (c Class) Major() int { return int(c) / 100 }

// String formats the class as 4 digits.
func (c Class) String() string { return fmt.Sprintf("%04d", uint16(c)) }

// Kind is the geometry kind a class is drawn with.
type Kind uint8

// Geometry kinds.
const (
	Point Kind = iota
	Line
	Polygon
)

func (k Kind) String() string {
	switch k {
	case Line:
		return "line"
	case Polygon:
		return "polygon"
	}
	return "point"
}

// Kinds is a set of geometry kinds.
type Kinds uint8

// KindsOf returns the set of ks.
func KindsOf(ks ...Kind) Kinds {
	var s Kinds
	for _, k := range ks {
		s |= 1 << k
	}
	return s
}

// Has reports whether k is in the set.
func (s Kinds) Has(k Kind) bool { return s&(1<<k) != 0 }

// String lists the kinds, "point, line or polygon".
func (s Kinds) String() string {
	var names []string
	for _, k := range []Kind{Point, Line, Polygon} {
		if s.Has(k) {
			names = append(names, k.String())
		}
	}
	switch len(names) {
	case 0:
		return "none"
	case 1:
		return names[0]
	}
	return strings.Join(names[:len(names)-1], ", ") + " or " + names[len(names)-1]
}

// ClassInfo describes one minor class of the catalogue.
type ClassInfo struct {
	Class  Class
	Name   string // Chinese name, e.g. 上水井盖
	NameEN string // English name
	Kind   Kind   // geometry kind it is usually drawn with (synthetic data, legends)
	Owner  string // default owner / responsible department code (权属单位)
	Super  string // default supervising department code (主管部门)
	Weight int    // relative frequency in a typical city (for synthetic data)
	// Priority orders classes for thinning at low zoom: higher survives longer.
	Priority int
	// Also lists the geometry kinds the class accepts besides Kind and a
	// point: real data draws a bus shelter or a kiosk as its footprint, a
	// bench or a row of street trees as a line. See Accepts.
	Also Kinds
}

// Accepts returns the geometry kinds a component of the class may have: a
// point always (a survey point stands for any component), its Kind, and
// Also.
func (ci ClassInfo) Accepts() Kinds { return KindsOf(Point, ci.Kind) | ci.Also }

// Department codes used by the default catalogue. A city configures its own.
const (
	DeptWater      = "water"      // water-supply company
	DeptDrainage   = "drainage"   // drainage company
	DeptPower      = "power"      // power-supply company
	DeptLighting   = "lighting"   // street-lighting office
	DeptTelecom    = "telecom"    // telecom operators
	DeptCableTV    = "cabletv"    // cable-TV company
	DeptHeating    = "heating"    // heating company
	DeptGas        = "gas"        // gas company
	DeptPolice     = "police"     // public security bureau
	DeptFire       = "fire"       // fire brigade
	DeptPost       = "post"       // post office
	DeptTraffic    = "traffic"    // traffic police / transport bureau
	DeptBus        = "bus"        // public transport company
	DeptBridge     = "bridge"     // city bridge management
	DeptSanitation = "sanitation" // sanitation department
	DeptLandscape  = "landscape"  // landscaping bureau
	DeptHousing    = "housing"    // housing authority
	DeptCityMgmt   = "citymgmt"   // city management bureau (supervising)
	DeptStreet     = "street"     // the street office of the grid (属地兜底)
)

// Catalogue is the set of known classes. The zero value is empty; use
// DefaultCatalogue for the working catalogue of DOMAIN.md and Add to extend it.
type Catalogue struct {
	byClass map[Class]ClassInfo
}

// DefaultCatalogue returns the working catalogue of minor classes.
func DefaultCatalogue() *Catalogue {
	c := &Catalogue{}
	for _, ci := range defaultClasses {
		c.Add(ci)
	}
	return c
}

// Add adds or replaces a class (local extensions count down from 99).
func (c *Catalogue) Add(ci ClassInfo) {
	if c.byClass == nil {
		c.byClass = make(map[Class]ClassInfo)
	}
	if ci.Super == "" {
		ci.Super = DeptCityMgmt
	}
	if ci.Owner == "" {
		ci.Owner = DeptStreet
	}
	c.byClass[ci.Class] = ci
}

// Lookup returns the class's description.
func (c *Catalogue) Lookup(cl Class) (ClassInfo, bool) {
	ci, ok := c.byClass[cl]
	return ci, ok
}

// Validate returns an error wrapping ErrUnknownClass if cl is not known.
func (c *Catalogue) Validate(cl Class) error {
	if _, ok := c.byClass[cl]; !ok {
		return &FieldError{Field: "class", Reason: fmt.Sprintf("%s is not in the class catalogue", cl), Err: ErrUnknownClass}
	}
	return nil
}

// All returns every class in ascending order.
func (c *Catalogue) All() []ClassInfo {
	out := make([]ClassInfo, 0, len(c.byClass))
	for _, ci := range c.byClass {
		out = append(out, ci)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	return out
}

var defaultClasses = []ClassInfo{
	{101, "上水井盖", "water-supply cover", Point, DeptWater, "", 120, 5, 0},
	{102, "污水井盖", "sewage cover", Point, DeptDrainage, "", 110, 5, 0},
	{103, "雨水井盖", "storm-water cover", Point, DeptDrainage, "", 110, 5, 0},
	{104, "雨水箅子", "storm grate", Point, DeptDrainage, "", 80, 3, 0},
	{105, "电力井盖", "power cover", Point, DeptPower, "", 60, 4, 0},
	{106, "路灯井盖", "street-light cover", Point, DeptLighting, "", 30, 3, 0},
	{107, "电信井盖", "telecom cover", Point, DeptTelecom, "", 50, 3, 0},
	{108, "有线电视井盖", "cable-TV cover", Point, DeptCableTV, "", 15, 2, 0},
	{109, "网络井盖", "network cover", Point, DeptTelecom, "", 15, 2, 0},
	{110, "热力井盖", "heat cover", Point, DeptHeating, "", 10, 3, 0},
	{111, "燃气井盖", "gas cover", Point, DeptGas, "", 40, 6, 0},
	{112, "公安井盖", "police cover", Point, DeptPolice, "", 5, 2, 0},
	{113, "消防设施", "fire hydrant", Point, DeptFire, "", 30, 8, 0},
	{114, "不明井盖", "unknown cover", Point, DeptStreet, "", 10, 1, 0},
	{115, "电信交接箱", "telecom cabinet", Point, DeptTelecom, "", 10, 2, 0},
	{116, "电力设施", "power facility", Point, DeptPower, "", 10, 4, KindsOf(Line)},
	{117, "电杆", "pole", Point, DeptPower, "", 40, 2, 0},
	{118, "路灯", "street lamp", Point, DeptLighting, "", 150, 6, 0},
	{119, "地灯", "ground lamp", Point, DeptLighting, "", 10, 1, 0},
	{120, "射灯", "spotlight", Point, DeptLighting, "", 5, 1, 0},
	{121, "报刊亭", "news kiosk", Point, DeptStreet, "", 3, 3, KindsOf(Polygon)},
	{122, "电话亭", "phone booth", Point, DeptTelecom, "", 2, 2, KindsOf(Polygon)},
	{123, "邮筒", "mailbox", Point, DeptPost, "", 3, 3, 0},
	{124, "信息亭", "info kiosk", Point, DeptStreet, "", 2, 3, KindsOf(Polygon)},
	{125, "自动售货亭", "vending kiosk", Point, DeptStreet, "", 2, 2, KindsOf(Polygon)},
	{126, "健身设施", "fitness equipment", Point, DeptStreet, "", 5, 3, KindsOf(Polygon)},
	{127, "中水井盖", "reclaimed-water cover", Point, DeptWater, "", 5, 3, 0},
	{128, "输油(气)井盖", "oil/gas cover", Point, DeptGas, "", 3, 5, 0},
	{129, "园林井盖", "landscaping cover", Point, DeptLandscape, "", 3, 2, 0},
	{130, "环卫设施井盖", "sanitation cover", Point, DeptSanitation, "", 3, 2, 0},
	{201, "停车场", "car park", Polygon, DeptTraffic, "", 4, 7, 0},
	{202, "停车咪表", "parking meter", Point, DeptTraffic, "", 5, 2, 0},
	{203, "公交站亭", "bus shelter", Point, DeptBus, "", 10, 7, KindsOf(Polygon)},
	{204, "出租车站牌", "taxi sign", Point, DeptTraffic, "", 2, 3, 0},
	{205, "过街天桥", "footbridge", Line, DeptBridge, "", 1, 9, KindsOf(Polygon)},
	{206, "地下通道", "underpass", Line, DeptBridge, "", 1, 9, KindsOf(Polygon)},
	{207, "高架立交桥", "flyover", Line, DeptBridge, "", 1, 10, KindsOf(Polygon)},
	{208, "跨河桥", "river bridge", Line, DeptBridge, "", 1, 10, KindsOf(Polygon)},
	{209, "交通标志牌", "traffic sign", Point, DeptTraffic, "", 30, 4, 0},
	{210, "交通控制箱", "signal cabinet", Point, DeptTraffic, "", 5, 3, 0},
	{211, "交通护栏", "guard rail", Line, DeptTraffic, "", 20, 4, 0},
	{212, "存车支架", "bike rack", Point, DeptTraffic, "", 10, 1, KindsOf(Line)},
	{213, "路名牌", "street-name sign", Point, DeptTraffic, "", 10, 3, 0},
	{214, "交通信号灯", "traffic light", Point, DeptTraffic, "", 10, 6, 0},
	{219, "交通岗亭", "traffic booth", Point, DeptTraffic, "", 1, 4, KindsOf(Polygon)},
	{301, "公共厕所", "public toilet", Point, DeptSanitation, "", 4, 7, KindsOf(Polygon)},
	{302, "公厕化粪池", "toilet septic tank", Point, DeptSanitation, "", 2, 2, 0},
	{303, "公厕指示牌", "toilet sign", Point, DeptSanitation, "", 2, 2, 0},
	{304, "垃圾间", "refuse room", Point, DeptSanitation, "", 3, 4, KindsOf(Polygon)},
	{305, "垃圾箱", "litter bin", Point, DeptSanitation, "", 60, 3, 0},
	{306, "灯箱霓虹灯", "light box", Point, DeptCityMgmt, "", 5, 1, 0},
	{307, "广告牌匾", "billboard", Point, DeptCityMgmt, "", 10, 2, KindsOf(Line)},
	{308, "环境监测塔", "monitoring tower", Point, DeptCityMgmt, "", 1, 5, 0},
	{401, "古树名木", "heritage tree", Point, DeptLandscape, "", 2, 8, 0},
	{402, "行道树", "street tree", Point, DeptLandscape, "", 100, 1, KindsOf(Line)},
	{403, "树池箅子", "tree grate", Point, DeptLandscape, "", 20, 1, 0},
	{404, "花架花钵", "planter", Point, DeptLandscape, "", 5, 1, 0},
	{405, "绿地", "green space", Polygon, DeptLandscape, "", 5, 8, 0},
	{406, "雕塑", "sculpture", Point, DeptLandscape, "", 1, 5, 0},
	{407, "街头座椅", "bench", Point, DeptLandscape, "", 10, 1, KindsOf(Line)},
	{501, "宣传栏", "notice board", Point, DeptHousing, "", 3, 2, KindsOf(Line)},
	{502, "人防工事", "air-raid shelter", Point, DeptHousing, "", 1, 5, KindsOf(Polygon)},
	{503, "公房地下室", "public basement", Point, DeptHousing, "", 1, 3, KindsOf(Polygon)},
	{602, "工地", "construction site", Polygon, DeptStreet, "", 2, 7, 0},
}
