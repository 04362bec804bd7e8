package incidents

import (
	"fmt"
	"sort"

	"citytwin/parts"
)

// Department codes of the default event catalogue that the component
// catalogue (parts.Dept*) does not have. A city configures its own.
const (
	DeptChengguan = "chengguan" // 城管执法: urban management law enforcement
	DeptRoads     = "roads"     // road maintenance unit (道路养护)
)

// EventClass is one event class (事件小类) of the catalogue.
type EventClass struct {
	Class     string `json:"class"`  // 4 digits, e.g. "0505"
	Name      string `json:"name"`   // Chinese name, e.g. 机动车乱停放
	NameEN    string `json:"nameEn"` // English name
	Major     string `json:"major"`  // 2 digits, e.g. "05"
	MajorName string `json:"majorName,omitempty"`
	Dept      string `json:"dept,omitempty"` // the typical responsible department; seeds the table (DefaultResponsibilities)
}

// Events is the event class catalogue. The zero value is empty; use
// DefaultEvents for DOMAIN.md's working catalogue and Add to extend it.
// It is not safe for concurrent modification: configure it, then share it.
type Events struct {
	byClass map[string]EventClass
}

// Event majors (事件大类).
var eventMajors = map[string]string{
	"01": "市容环境", "02": "宣传广告", "03": "施工管理", "04": "突发事件", "05": "街面秩序", "06": "其他事件",
}

// DefaultEvents returns the working event catalogue.
func DefaultEvents() *Events {
	e := &Events{}
	for _, ec := range defaultEvents {
		e.Add(ec)
	}
	return e
}

// Add adds or replaces a class; Major and MajorName default from Class.
func (e *Events) Add(ec EventClass) {
	if e.byClass == nil {
		e.byClass = make(map[string]EventClass)
	}
	if ec.Major == "" && len(ec.Class) == 4 {
		ec.Major = ec.Class[:2]
	}
	if ec.MajorName == "" {
		ec.MajorName = eventMajors[ec.Major]
	}
	e.byClass[ec.Class] = ec
}

// Lookup returns the event class.
func (e *Events) Lookup(class string) (EventClass, bool) {
	ec, ok := e.byClass[class]
	return ec, ok
}

// Validate returns an error wrapping ErrUnknownClass if class is unknown.
func (e *Events) Validate(class string) error {
	if _, ok := e.byClass[class]; !ok {
		return fmt.Errorf("%w: event class %q is not in the catalogue", ErrUnknownClass, class)
	}
	return nil
}

// All returns every class in ascending order.
func (e *Events) All() []EventClass {
	out := make([]EventClass, 0, len(e.byClass))
	for _, ec := range e.byClass {
		out = append(out, ec)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Class < out[j].Class })
	return out
}

// DefaultResponsibilities returns wildcard-district table rows ("*") for
// every event class of e that names a typical department: the seed of a
// city's class responsibility table, which an admin then edits.
func DefaultResponsibilities(e *Events) []Responsibility {
	var out []Responsibility
	for _, ec := range e.All() {
		if ec.Dept != "" {
			out = append(out, Responsibility{District: Wildcard, Type: TypeEvent, Class: ec.Class, Dept: ec.Dept, Version: 1})
		}
	}
	return out
}

// defaultEvents is DOMAIN.md's event catalogue (GB/T 30428.2 style), with
// the department that typically answers for each class; "" leaves the
// class to the street office of the grid (属地兜底).
var defaultEvents = []EventClass{
	// 01 市容环境 appearance
	{Class: "0101", Name: "私搭乱建", NameEN: "illegal construction", Dept: DeptChengguan},
	{Class: "0102", Name: "暴露垃圾", NameEN: "exposed rubbish", Dept: parts.DeptSanitation},
	{Class: "0103", Name: "积存垃圾渣土", NameEN: "accumulated rubbish and muck", Dept: parts.DeptSanitation},
	{Class: "0104", Name: "道路不洁", NameEN: "dirty road", Dept: parts.DeptSanitation},
	{Class: "0105", Name: "水域不洁", NameEN: "dirty water surface", Dept: parts.DeptSanitation},
	{Class: "0106", Name: "绿地脏乱", NameEN: "littered green space", Dept: parts.DeptLandscape},
	{Class: "0107", Name: "废弃车辆", NameEN: "abandoned vehicle", Dept: parts.DeptTraffic},
	{Class: "0108", Name: "废弃家具设备", NameEN: "discarded furniture", Dept: parts.DeptSanitation},
	{Class: "0110", Name: "道路破损", NameEN: "damaged road surface", Dept: DeptRoads},
	{Class: "0111", Name: "道路积水", NameEN: "standing water", Dept: parts.DeptDrainage},
	{Class: "0112", Name: "积雪结冰", NameEN: "snow and ice", Dept: parts.DeptSanitation},
	// 02 宣传广告 advertising
	{Class: "0201", Name: "非法小广告", NameEN: "illegal flyers", Dept: DeptChengguan},
	{Class: "0202", Name: "违章张贴悬挂广告", NameEN: "illegal posters and banners", Dept: DeptChengguan},
	{Class: "0203", Name: "占道广告牌", NameEN: "billboard on the road", Dept: DeptChengguan},
	// 03 施工管理 construction
	{Class: "0301", Name: "施工扰民", NameEN: "construction noise", Dept: DeptChengguan},
	{Class: "0302", Name: "工地扬尘", NameEN: "construction dust", Dept: DeptChengguan},
	{Class: "0303", Name: "道路遗撒", NameEN: "spillage on the road", Dept: DeptChengguan},
	{Class: "0304", Name: "施工废弃料", NameEN: "construction waste", Dept: DeptChengguan},
	{Class: "0305", Name: "施工占道", NameEN: "construction occupying the road", Dept: DeptChengguan},
	// 04 突发事件 emergencies
	{Class: "0401", Name: "路面塌陷", NameEN: "road collapse", Dept: DeptRoads},
	{Class: "0402", Name: "自来水管破裂", NameEN: "burst water main", Dept: parts.DeptWater},
	{Class: "0403", Name: "燃气管道破裂", NameEN: "gas pipe rupture", Dept: parts.DeptGas},
	{Class: "0404", Name: "下水道堵塞或破损", NameEN: "blocked or broken drain", Dept: parts.DeptDrainage},
	{Class: "0405", Name: "热力管道破裂", NameEN: "burst heating pipe", Dept: parts.DeptHeating},
	{Class: "0408", Name: "架空线缆损坏", NameEN: "damaged overhead cable", Dept: parts.DeptPower},
	{Class: "0411", Name: "火灾", NameEN: "fire", Dept: parts.DeptFire},
	// 05 街面秩序 street order
	{Class: "0501", Name: "无照经营游商", NameEN: "unlicensed vendors", Dept: DeptChengguan},
	{Class: "0502", Name: "流浪乞讨", NameEN: "vagrancy and begging"},
	{Class: "0503", Name: "占道废品收购", NameEN: "scrap collection on the road", Dept: DeptChengguan},
	{Class: "0504", Name: "店外经营", NameEN: "trading outside the shop", Dept: DeptChengguan},
	{Class: "0505", Name: "机动车乱停放", NameEN: "illegal parking", Dept: DeptChengguan},
	{Class: "0506", Name: "非机动车乱停放", NameEN: "bicycles parked in disorder", Dept: DeptChengguan},
	{Class: "0507", Name: "占道经营", NameEN: "street stalls on the road", Dept: DeptChengguan},
	{Class: "0510", Name: "露天烧烤", NameEN: "open-air barbecue", Dept: DeptChengguan},
}
